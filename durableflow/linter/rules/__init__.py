"""The rules, one per module, and the registry of stable codes.

A code, once published, never changes meaning; a retired rule keeps its code reserved.
"""

from __future__ import annotations

from durableflow.linter.rules.base import Edit, Hit, Rule, RuleContext
from durableflow.linter.rules.dur000_syntax_error import Unparsable
from durableflow.linter.rules.dur001_current_time import CurrentTime
from durableflow.linter.rules.dur002_random_uuid import RandomUuid
from durableflow.linter.rules.dur003_random_numbers import RandomNumbers
from durableflow.linter.rules.dur004_io import FileIo
from durableflow.linter.rules.dur005_network import Network
from durableflow.linter.rules.dur006_blocking import Blocking
from durableflow.linter.rules.dur007_async import AsyncCode
from durableflow.linter.rules.dur008_threads import Threads
from durableflow.linter.rules.dur009_global_state import GlobalState
from durableflow.linter.rules.dur010_environment import Environment
from durableflow.linter.rules.dur011_endless_loop import EndlessLoop
from durableflow.linter.rules.dur012_replay_logging import ReplayLogging
from durableflow.linter.rules.dur013_hash_order import HashOrder
from durableflow.linter.rules.dur014_dynamic_code import DynamicCode
from durableflow.linter.rules.dur015_generator_misuse import GeneratorMisuse
from durableflow.linter.rules.dur016_direct_activity_call import DirectActivityCall

__all__ = ["ALL_RULES", "RULES_BY_CODE", "Edit", "Hit", "Rule", "RuleContext"]

ALL_RULES: tuple[type[Rule], ...] = (
    Unparsable,
    CurrentTime,
    RandomUuid,
    RandomNumbers,
    FileIo,
    Network,
    Blocking,
    AsyncCode,
    Threads,
    GlobalState,
    Environment,
    EndlessLoop,
    ReplayLogging,
    HashOrder,
    DynamicCode,
    GeneratorMisuse,
    DirectActivityCall,
)
RULES_BY_CODE: dict[str, type[Rule]] = {rule.CODE: rule for rule in ALL_RULES}
