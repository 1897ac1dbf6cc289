// The page: the project's tasks with a live badge per task and mode, Run /
// Stop / Attach / Log buttons, a task's detail and a live log viewer. The
// badges follow `WS /events`, which the server feeds from its watch on the
// books: nothing here polls.
"use strict";

const $ = (selector, root = document) => root.querySelector(selector);
const state = {
  project: new URLSearchParams(location.search).get("project") || "",
  tasks: [],
  modes: [],
  sessions: new Map(), // sessionName -> record
  events: null,
  log: null,
  detail: null,
};

function withProject(path) {
  if (!state.project) return path;
  return path + (path.includes("?") ? "&" : "?") + "project=" + encodeURIComponent(state.project);
}

function keyPath(route, mode, id) {
  return `/${route}/${encodeURIComponent(mode)}/${encodeURIComponent(id)}`;
}

async function api(path, options = {}) {
  const response = await fetch(withProject(path), { credentials: "same-origin", ...options });
  const text = await response.text();
  let body = null;
  try { body = text ? JSON.parse(text) : null; } catch (_) { body = { error: text }; }
  if (!response.ok) throw new Error((body && body.error) || `${response.status} ${response.statusText}`);
  return body;
}

function say(text, error = false) {
  const message = $("#message");
  message.textContent = text;
  message.className = error ? "error" : "";
}

function element(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (name === "class") node.className = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else if (value !== undefined && value !== null) node.setAttribute(name, value);
  }
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

// ── projects ─────────────────────────────────────────────────────────

async function loadProjects() {
  const projects = await fetch("/projects", { credentials: "same-origin" }).then((r) => r.json());
  const select = $("#project");
  select.replaceChildren(...projects.map((p) =>
    element("option", { value: p.id, title: p.root }, p.current ? `${p.name} (current)` : p.name)));
  if (!state.project && projects.length) state.project = projects[0].id;
  select.value = state.project;
  select.onchange = () => {
    state.project = select.value;
    history.replaceState(null, "", "/?project=" + encodeURIComponent(state.project));
    closeLog();
    closeDetail();
    loadProject();
  };
}

async function loadProject() {
  try {
    const [tasks, modes] = await Promise.all([api("/tasks"), api("/modes")]);
    state.tasks = tasks.filter((t) => !String(t.location).startsWith("archive") && t.status !== "done");
    state.modes = modes;
    state.sessions = new Map();
    renderTasks();
    follow();
  } catch (error) {
    say(error.message, true);
  }
}

// ── the task list ────────────────────────────────────────────────────

/// The latest session of each mode of a task.
function latestByMode(taskId) {
  const latest = new Map();
  for (const record of state.sessions.values()) {
    if (record.taskId !== taskId) continue;
    const mode = record.mode || "-";
    const seen = latest.get(mode);
    if (!seen || String(record.startTime) > String(seen.startTime)) latest.set(mode, record);
  }
  return latest;
}

function isLive(record) {
  return record && (record.status === "running" || record.status === "waiting");
}

// The state as `list` shows it: a live run's finer state (blocked by an
// error, stuck with nothing from it) and why it waits; else the status.
function stateWord(record) {
  if (!isLive(record)) return record.status;
  if (record.stuckSince) return "stuck";
  if (record.agentState && record.agentState.state === "blocked") return "blocked";
  return record.status;
}

function stateLabel(record) {
  const word = stateWord(record);
  const reason = record.status === "waiting" && record.agentState && record.agentState.reason;
  return word !== "stuck" && reason ? `${word} (${reason})` : word;
}

function outcome(record) {
  if (record.exitSignal) return record.exitSignal;
  if (record.exitCode !== undefined && record.exitCode !== null) return `exit ${record.exitCode}`;
  return "";
}

function renderTasks() {
  const body = $("#tasks tbody");
  body.replaceChildren(...state.tasks.map(taskRow));
  $("#empty").hidden = state.tasks.length > 0;
  renderBadges();
}

function taskRow(task) {
  const modes = element("select", { class: "mode", "aria-label": `mode for ${task.id}` },
    ...state.modes.map((m) => element("option", { value: m.name }, m.isDefault ? `${m.name} (default)` : m.name)));
  const row = element("tr", { "data-task": task.id },
    element("td", { class: "id" }, element("a", { href: "#", onclick: (e) => { e.preventDefault(); openDetail(task.id); } }, task.id)),
    element("td", {}, task.title),
    element("td", {}, task.status),
    element("td", { class: "badges" }),
    element("td", { class: "actions" },
      modes, " ",
      element("button", { type: "button", class: "run", onclick: () => run(task.id, modes.value) }, "Run"), " ",
      element("button", { type: "button", class: "stop", onclick: () => stop(task.id, modes.value) }, "Stop"), " ",
      element("button", { type: "button", class: "attach", onclick: () => attach(task.id, modes.value) }, "Attach"), " ",
      element("button", { type: "button", class: "log", onclick: () => openLog(task.id, modes.value) }, "View Log")));
  modes.addEventListener("change", () => renderActions(row));
  return row;
}

function renderBadges() {
  for (const row of document.querySelectorAll("#tasks tbody tr")) {
    const taskId = row.dataset.task;
    const cell = $(".badges", row);
    const latest = latestByMode(taskId);
    const wanted = [...latest.keys()].sort();
    const badges = new Map([...cell.querySelectorAll(".badge")].map((b) => [b.dataset.mode, b]));
    for (const [mode, badge] of badges) if (!latest.has(mode)) badge.remove();
    for (const mode of wanted) {
      const record = latest.get(mode);
      let badge = badges.get(mode);
      if (!badge) {
        badge = element("span", { class: "badge", "data-mode": mode, title: "show the log",
          onclick: () => openLog(taskId, mode) });
        cell.append(badge);
      }
      const label = stateLabel(record);
      const text = `${mode} · ${label}${outcome(record) ? " · " + outcome(record) : ""}`;
      const title = record.stuckSince
        ? `quiet since ${new Date(record.stuckSince).toLocaleTimeString()}; show the log`
        : "show the log";
      if (badge.dataset.state !== record.status || badge.textContent !== text || badge.title !== title) {
        badge.dataset.state = record.status;
        badge.dataset.label = label;
        badge.dataset.changedAt = String(Date.now());
        badge.className = `badge ${record.status} ${stateWord(record)}`;
        badge.textContent = text;
        badge.title = title;
      }
    }
    renderActions(row);
  }
}

/// Stop and Attach apply to a live run of the chosen mode; View Log to any.
function renderActions(row) {
  const mode = $("select.mode", row).value;
  const record = latestByMode(row.dataset.task).get(mode);
  $("button.stop", row).disabled = !isLive(record);
  $("button.attach", row).disabled = !(isLive(record) && record.execType === "tmux");
  $("button.log", row).disabled = !record;
}

// ── actions ──────────────────────────────────────────────────────────

async function run(taskId, mode) {
  say(`starting ${taskId} (${mode})…`);
  try {
    const answer = await api(keyPath("dispatch", mode, taskId), {
      method: "POST", headers: { "content-type": "application/json" }, body: "{}",
    });
    say(answer.started ? `started ${taskId} (${mode})` : `${taskId} (${mode}) is already running`);
    for (const note of answer.notes || []) say(note);
  } catch (error) {
    say(error.message, true);
  }
}

async function stop(taskId, mode) {
  say(`stopping ${taskId} (${mode})…`);
  try {
    const answer = await api(keyPath("stop", mode, taskId), { method: "POST" });
    say(`${taskId} (${mode}) ${answer.status.state}`);
  } catch (error) {
    say(error.message, true);
  }
}

async function attach(taskId, mode) {
  try {
    const answer = await api(keyPath("attach", mode, taskId), { method: "POST" });
    say(`opened ${answer.terminal} on ${taskId} (${mode})`);
  } catch (error) {
    say(error.message, true);
  }
}

// ── live badges ──────────────────────────────────────────────────────

function follow() {
  if (state.events) { state.events.onclose = null; state.events.close(); }
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const socket = new WebSocket(`${scheme}//${location.host}${withProject("/events")}`);
  state.events = socket;
  socket.onopen = () => { $("#live").textContent = "live"; $("#live").className = "live on"; };
  socket.onmessage = (event) => {
    const message = JSON.parse(event.data);
    if (message.type === "sessions") state.sessions = new Map();
    for (const record of message.sessions || []) state.sessions.set(record.sessionName, record);
    for (const name of message.removed || []) state.sessions.delete(name);
    renderBadges();
    if (state.detail) renderHistory();
  };
  socket.onclose = () => {
    $("#live").textContent = "offline";
    $("#live").className = "live off";
    // Reconnect once the server is back (a restart keeps the token).
    setTimeout(() => { if (state.events === socket) follow(); }, 2000);
  };
}

// ── the log viewer ───────────────────────────────────────────────────

const MAX_LOG = 2 * 1024 * 1024;

function openLog(taskId, mode) {
  closeLog();
  const record = latestByMode(taskId).get(mode);
  const screen = record && record.execType === "tmux";
  const view = $("#logview");
  const pre = $("#log");
  pre.textContent = "";
  pre.dataset.ended = "";
  $("#log-title").textContent = `${taskId} (${mode})`;
  $("#log-state").textContent = "connecting…";
  view.hidden = false;
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const path = withProject(keyPath("logs", mode, taskId) + (screen ? "?screen=1" : ""));
  const socket = new WebSocket(`${scheme}//${location.host}${path}`);
  state.log = socket;
  socket.onopen = () => { $("#log-state").textContent = "following"; };
  socket.onmessage = (event) => {
    const atBottom = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
    if (screen) {
      // A whole screen, already escaped HTML from the server.
      pre.innerHTML = event.data;
    } else {
      pre.append(event.data);
      if (pre.textContent.length > MAX_LOG) pre.textContent = pre.textContent.slice(-MAX_LOG / 2);
    }
    if (atBottom) pre.scrollTop = pre.scrollHeight;
  };
  socket.onclose = (event) => {
    if (state.log !== socket) return;
    const reason = event.reason || "closed";
    $("#log-state").textContent = `ended: ${reason}`;
    pre.dataset.ended = reason;
  };
}

function closeLog() {
  if (state.log) { const socket = state.log; state.log = null; socket.close(); }
  $("#logview").hidden = true;
}

// ── the task detail ──────────────────────────────────────────────────

async function openDetail(taskId) {
  try {
    const detail = await api(`/tasks/${encodeURIComponent(taskId)}`);
    state.detail = detail;
    const task = detail.task;
    $("#detail-title").textContent = `${task.id}: ${task.title}`;
    const fields = [["type", task.type], ["status", task.status], ["area", task.area],
      ["parent", task.parent || "—"], ["where", task.location], ["file", task.path]];
    $("#detail-fields").replaceChildren(...fields.flatMap(([k, v]) => [element("dt", {}, k), element("dd", {}, v)]));
    $("#detail-instruction").textContent = detail.instruction;
    for (const record of detail.sessions) state.sessions.set(record.sessionName, record);
    const select = $("#prompt-mode");
    select.replaceChildren(...detail.modes.map((m) => element("option", { value: m.name, disabled: m.missing.length ? "" : null },
      m.name + (m.isDefault ? " (default)" : "") + (m.missing.length ? ` (needs ${m.missing.join(", ")})` : ""))));
    const used = detail.sessions[0];
    if (used && used.mode) select.value = used.mode;
    select.onchange = () => loadPrompt(task.id, select.value);
    renderHistory();
    $("#detail").hidden = false;
    loadPrompt(task.id, select.value);
  } catch (error) {
    say(error.message, true);
  }
}

function renderHistory() {
  const task = state.detail.task;
  const rows = [];
  const records = [...state.sessions.values()].filter((r) => r.taskId === task.id)
    .sort((a, b) => String(b.startTime).localeCompare(String(a.startTime)));
  for (const record of records) {
    const runs = record.sessionHistory && record.sessionHistory.length ? record.sessionHistory : [record];
    runs.forEach((run, index) => {
      const status = run.status || record.status;
      const code = run.exitSignal || (run.exitCode !== undefined && run.exitCode !== null ? `exit ${run.exitCode}` : "");
      rows.push(element("tr", {},
        element("td", {}, record.mode || "-"),
        element("td", {}, String(index + 1)),
        element("td", {}, run.execType || record.execType || "-"),
        element("td", {}, element("span", { class: `badge ${status}` }, status)),
        element("td", {}, code),
        element("td", {}, run.startTime || ""),
        element("td", {}, run.endTime || "")));
    });
  }
  $("#history tbody").replaceChildren(...rows.reverse());
}

async function loadPrompt(taskId, mode) {
  if (!mode) return;
  try {
    const answer = await api(keyPath("prompt", mode, taskId));
    $("#prompt").textContent = answer.prompt;
    $("#prompt-source").textContent = answer.source === "recorded" ? "(as sent in the last run)" : "(as it would be composed now)";
  } catch (error) {
    $("#prompt").textContent = error.message;
    $("#prompt-source").textContent = "";
  }
}

function closeDetail() {
  state.detail = null;
  $("#detail").hidden = true;
}

// ── start ────────────────────────────────────────────────────────────

document.addEventListener("DOMContentLoaded", async () => {
  $("#log-close").onclick = closeLog;
  $("#detail-close").onclick = closeDetail;
  try {
    await loadProjects();
  } catch (error) {
    say(error.message, true);
  }
  loadProject();
});
