// The durableflow dashboard: plain browser JavaScript over the management API, no build step.
"use strict";

(function () {
  const body = document.body;
  const root = body.dataset.root || "";
  const api = root + "/runtime/webhooks/durabletask";
  const REFRESH_MS = 1500;
  const $ = (id) => document.getElementById(id);

  // An API key given as ?code= is kept for this tab and sent as a header from then on.
  const params = new URLSearchParams(location.search);
  if (params.get("code")) sessionStorage.setItem("durableflow-key", params.get("code"));

  function headers(extra) {
    const h = Object.assign({ Accept: "application/json" }, extra || {});
    const key = sessionStorage.getItem("durableflow-key");
    if (key) h["x-functions-key"] = key;
    return h;
  }

  async function call(method, url, data, extra) {
    const init = { method: method, headers: headers(extra) };
    if (data !== undefined) {
      init.body = data;
      init.headers["Content-Type"] = "application/json";
    }
    const response = await fetch(url, init);
    if (response.status === 401) {
      $("key-box").hidden = false;
      notice("this server needs an API key");
    }
    let json = null;
    const text = await response.text();
    if (text) {
      try { json = JSON.parse(text); } catch (e) { json = text; }
    }
    return { status: response.status, json: json, headers: response.headers };
  }

  function notice(text) { $("notice").textContent = text || ""; }

  $("key-save").addEventListener("click", () => {
    sessionStorage.setItem("durableflow-key", $("api-key").value);
    $("key-box").hidden = true;
    notice("");
    refresh();
  });

  function show(value) {
    return value === undefined ? "" : JSON.stringify(value, null, 2);
  }

  function ago(iso) {
    const then = Date.parse(iso);
    if (isNaN(then)) return iso || "";
    const s = Math.max(0, Math.round((Date.now() - then) / 1000));
    if (s < 60) return s + " s ago";
    if (s < 3600) return Math.round(s / 60) + " min ago";
    if (s < 86400) return Math.round(s / 3600) + " h ago";
    return Math.round(s / 86400) + " d ago";
  }

  function cell(row, text, cls) {
    const td = document.createElement("td");
    td.textContent = text;
    if (cls) td.className = cls;
    row.appendChild(td);
    return td;
  }

  function badge(status) {
    const span = document.createElement("span");
    span.className = "status " + status;
    span.textContent = status;
    return span;
  }

  // -- the instance list ---------------------------------------------------------------
  const tokens = [null]; // tokens[i] fetches page i; null is the first page
  let pageIndex = 0;
  let nextToken = null;

  function listUrl() {
    const q = new URLSearchParams();
    if ($("filter-status").value) q.set("runtimeStatus", $("filter-status").value);
    if ($("filter-name").value) q.set("namePrefix", $("filter-name").value);
    if ($("filter-id").value) q.set("instanceIdPrefix", $("filter-id").value);
    q.set("top", $("filter-top").value || "20");
    q.set("showInput", "false");
    return api + "/instances?" + q.toString();
  }

  let listLoads = 0;

  async function loadList() {
    const token = tokens[pageIndex];
    const load = ++listLoads;
    const r = await call("GET", listUrl(), undefined,
      token ? { "x-ms-continuation-token": token } : {});
    // A live refresh or a keystroke may have started a newer load while this one was in
    // flight; only the newest answer may draw, or an old page would replace the new one.
    if (load !== listLoads) return;
    if (r.status !== 200) { notice(r.json && r.json.message); return; }
    const tbody = $("instances").querySelector("tbody");
    tbody.replaceChildren();
    for (const inst of r.json) {
      const row = document.createElement("tr");
      row.dataset.instance = inst.instanceId;
      const idCell = cell(row, "", "mono");
      const link = document.createElement("a");
      link.href = root + "/instance/" + encodeURIComponent(inst.instanceId);
      link.textContent = inst.instanceId;
      idCell.appendChild(link);
      cell(row, inst.name);
      cell(row, "").appendChild(badge(inst.runtimeStatus));
      cell(row, ago(inst.createdTime), "rel").title = inst.createdTime;
      cell(row, ago(inst.lastUpdatedTime), "rel").title = inst.lastUpdatedTime;
      tbody.appendChild(row);
    }
    nextToken = r.headers.get("x-ms-continuation-token");
    $("page-older").disabled = !nextToken;
    $("page-newer").disabled = pageIndex === 0;
    $("page-number").textContent = "page " + (pageIndex + 1);
  }

  function resetPaging() { tokens.length = 1; pageIndex = 0; loadList(); }

  async function loadOrchestrators() {
    const r = await call("GET", root + "/dashboard/api/orchestrators");
    if (r.status !== 200) return;
    const select = $("start-name");
    select.replaceChildren();
    for (const name of r.json.orchestrators) {
      const option = document.createElement("option");
      option.textContent = name;
      select.appendChild(option);
    }
  }

  function setupList() {
    $("list-page").hidden = false;
    for (const id of ["filter-status", "filter-name", "filter-id", "filter-top"]) {
      $(id).addEventListener("input", resetPaging);
    }
    $("filter-form").addEventListener("submit", (e) => { e.preventDefault(); resetPaging(); });
    $("page-older").addEventListener("click", () => {
      if (!nextToken) return;
      tokens[pageIndex + 1] = nextToken;
      pageIndex += 1;
      loadList();
    });
    $("page-newer").addEventListener("click", () => {
      if (pageIndex === 0) return;
      pageIndex -= 1;
      loadList();
    });
    $("start-form").addEventListener("submit", async (e) => {
      e.preventDefault();
      const name = encodeURIComponent($("start-name").value);
      const id = $("start-id").value.trim();
      const url = root + "/api/orchestrators/" + name + (id ? "/" + encodeURIComponent(id) : "");
      $("start-result").textContent = "starting\u2026";
      const r = await call("POST", url, $("start-input").value || "null");
      $("start-result").textContent = r.status === 202
        ? "started " + r.json.id
        : r.status + ": " + (r.json && r.json.message);
      loadList();
    });
    loadOrchestrators();
    loadList();
    setInterval(() => { if ($("live").checked) loadList(); }, REFRESH_MS);
  }

  // -- one instance --------------------------------------------------------------------
  const instanceId = body.dataset.instance;
  const instanceUrl = api + "/instances/" + encodeURIComponent(instanceId);
  let lastDrawn = null;

  async function loadInstance() {
    const r = await call("GET", instanceUrl + "?showHistory=true&showHistoryOutput=true");
    if (r.status === 404) {
      $("inst-status").textContent = "not found";
      $("inst-status").className = "status";
      return false;
    }
    if (r.status !== 200 && r.status !== 202) { notice(r.json && r.json.message); return true; }
    const s = r.json;
    $("inst-id").textContent = s.instanceId;
    $("inst-status").textContent = s.runtimeStatus;
    $("inst-status").className = "status " + s.runtimeStatus;
    $("inst-name").textContent = s.name;
    $("inst-created").textContent = ago(s.createdTime);
    $("inst-created").title = s.createdTime;
    $("inst-updated").textContent = ago(s.lastUpdatedTime);
    $("inst-updated").title = s.lastUpdatedTime;
    $("inst-input").textContent = show(s.input);
    $("inst-output").textContent = s.runtimeStatus === "Completed" ? show(s.output) : "";
    $("inst-custom").textContent = show(s.customStatus);
    $("inst-failure").textContent = s.failureDetails
      ? s.failureDetails.errorType + ": " + s.failureDetails.errorMessage +
        (s.failureDetails.stackTrace ? "\n\n" + s.failureDetails.stackTrace : "")
      : "";
    drawHistory(s.historyEvents || []);
    const stamp = s.lastUpdatedTime + "/" + (s.historyEvents || []).length + "/" + s.runtimeStatus;
    if (stamp !== lastDrawn) {
      lastDrawn = stamp;
      await loadGraph();
    }
    return r.status === 202;
  }

  function detail(e) {
    const parts = [];
    if (e.FunctionName) parts.push(e.FunctionName);
    if (e.Name) parts.push(e.Name);
    if (e.Reason !== undefined && e.Reason !== null) parts.push("reason: " + show(e.Reason));
    if (e.Result !== undefined) parts.push("→ " + show(e.Result));
    if (e.Input !== undefined && e.Input !== null) parts.push("input: " + show(e.Input));
    if (e.FireAt) parts.push("fires " + e.FireAt);
    return parts.join("  ");
  }

  function drawHistory(events) {
    const tbody = $("history").querySelector("tbody");
    tbody.replaceChildren();
    const start = events.length ? Date.parse(events[0].Timestamp) : 0;
    for (const e of events) {
      const row = document.createElement("tr");
      const offset = (Date.parse(e.Timestamp) - start) / 1000;
      const at = cell(row, "+" + offset.toFixed(3) + " s", "rel mono");
      at.title = e.Timestamp;
      cell(row, e.EventType);
      cell(row, detail(e), "mono");
      tbody.appendChild(row);
    }
  }

  async function loadGraph() {
    const r = await call("GET", root + "/dashboard/api/instances/" +
      encodeURIComponent(instanceId) + "/graph");
    if (r.status !== 200) return;
    $("graph-reason").textContent = r.json.reason || "";
    // The SVG is Graphviz's drawing of the orchestrator's own compiled graph.
    $("graph").innerHTML = r.json.svg || "";
  }

  async function act(action) {
    let r;
    if (action === "purge") {
      r = await call("DELETE", instanceUrl);
    } else {
      r = await call("POST", instanceUrl + "/" + action + "?reason=" +
        encodeURIComponent("from the dashboard"));
    }
    $("action-result").textContent = r.status + (r.json && r.json.message ? ": " + r.json.message
      : action === "purge" && r.status === 200 ? " purged" : " accepted");
    await loadInstance();
  }

  function setupInstance() {
    $("instance-page").hidden = false;
    for (const button of document.querySelectorAll("[data-action]")) {
      button.addEventListener("click", () => act(button.dataset.action));
    }
    $("event-form").addEventListener("submit", async (e) => {
      e.preventDefault();
      const url = instanceUrl + "/raiseEvent/" + encodeURIComponent($("event-name").value);
      const r = await call("POST", url, $("event-data").value || "null");
      $("action-result").textContent = r.status === 202
        ? "event sent" : r.status + ": " + (r.json && r.json.message);
      await loadInstance();
    });
    const tick = async () => {
      await loadInstance();
      setTimeout(tick, REFRESH_MS);
    };
    tick();
  }

  function refresh() {
    if (body.dataset.page === "list") loadList(); else loadInstance();
  }

  if (body.dataset.page === "list") setupList(); else setupInstance();
})();
