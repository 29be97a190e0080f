// The review workspace: buttons and keys post JSON with the session's CSRF token, and the
// page updates from the state the server returns. No inline script (the CSP forbids it).
"use strict";

const csrf = document.querySelector('meta[name="csrf-token"]').content;
const items = () => Array.from(document.querySelectorAll("article.item"));

function say(text) { document.getElementById("message").textContent = text; }

async function post(path, body) {
  const response = await fetch(path, {
    method: "POST", credentials: "same-origin",
    headers: {"Content-Type": "application/json", "X-CSRF-Token": csrf},
    body: JSON.stringify(body),
  });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) { say(data.message || data.error || ("refused (" + response.status + ")")); return null; }
  show(data);
  return data;
}

function show(state) {
  document.getElementById("reviewed-count").textContent = state.reviewed;
  document.getElementById("total-count").textContent = state.total;
  for (const it of state.items) {
    const el = document.getElementById(it.id);
    if (!el) continue;
    el.classList.toggle("reviewed", it.reviewed);
    el.querySelector(".state").textContent =
      it.decision ? it.decision + " (" + it.decided_by + ")" : (it.reviewed ? "reviewed" : "not reviewed");
    const toggle = el.querySelector(".toggle");
    if (toggle) toggle.textContent = it.reviewed ? "Mark unreviewed" : "Mark reviewed";
  }
  document.getElementById("approve").hidden = !state.approvable;
  const list = document.getElementById("approve-blockers");
  list.replaceChildren(...state.approve_blockers.map((r) => { const li = document.createElement("li"); li.textContent = r; return li; }));
  const names = state.approvals.map((a) => "; " + a.name + " (" + a.role + ")").join("");
  document.getElementById("approvals").textContent = "Approvals: " + (state.approvals_summary || "none") + names;
}

function decide(el, decision) {
  if (el.dataset.decidable !== "yes") { say("This item cannot be decided; mark it reviewed."); return; }
  post("/api/decide", {item: el.dataset.id, decision}).then((s) => { if (s) say(decision + " signed"); });
}

function toggle(el) {
  const reviewed = !el.classList.contains("reviewed");
  post("/api/reviewed", {item: el.dataset.id, reviewed: String(reviewed)});
}

function move(step) {
  const all = items();
  const at = all.indexOf(document.activeElement.closest ? document.activeElement.closest("article.item") : null);
  const next = all[Math.min(all.length - 1, Math.max(0, at + step))];
  if (next) { next.focus(); next.scrollIntoView({block: "nearest"}); }
}

document.addEventListener("click", (event) => {
  const button = event.target.closest("button");
  if (!button) return;
  const el = button.closest("article.item");
  if (button.classList.contains("keep")) decide(el, "keep");
  else if (button.classList.contains("redact")) decide(el, "redact");
  else if (button.classList.contains("toggle")) toggle(el);
  else if (button.classList.contains("bulk-keep") || button.classList.contains("bulk-redact")) {
    const decision = button.classList.contains("bulk-keep") ? "keep" : "redact";
    post("/api/bulk", {rule: button.dataset.rule, decision}).then((s) => { if (s) say(decision + ": " + s.decided + " item(s) of rule " + button.dataset.rule); });
  } else if (button.id === "approve") {
    post("/api/approve", {}).then((s) => { if (s) say("approved by " + s.approval.reviewer + " (" + s.approval.role + ")"); });
  } else if (button.id === "finish") {
    post("/api/finish", {}).then(() => say("finished: the server has stopped"));
  }
});

document.addEventListener("keydown", (event) => {
  if (event.ctrlKey || event.metaKey || event.altKey) return;
  const el = document.activeElement && document.activeElement.closest ? document.activeElement.closest("article.item") : null;
  if (event.key === "j" || event.key === "ArrowDown") { move(1); event.preventDefault(); }
  else if (event.key === "k" || event.key === "ArrowUp") { move(-1); event.preventDefault(); }
  else if (el && event.key === "a") decide(el, "keep");
  else if (el && event.key === "x") decide(el, "redact");
  else if (el && event.key === "r") toggle(el);
});
