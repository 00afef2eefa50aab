// The dashboard's only script: live fragments over server-sent events, and writes sent with
// fetch so that their outcomes show on the page. Every page works without it, only not live.
"use strict";

function showNotice(outcomes) {
  const notice = document.getElementById("notice");
  const list = document.createElement("ul");
  for (const outcome of outcomes) {
    const item = document.createElement("li");
    item.className = outcome.ok ? "ok" : "bad";
    item.textContent = outcome.message;
    list.append(item);
  }
  notice.replaceChildren(list);
  notice.classList.toggle("failed", outcomes.some((outcome) => !outcome.ok));
  notice.hidden = false;
}

function follow(container, eventName) {
  // Replace the container's content with each fragment the server sends, keeping the boxes
  // the user ticked; stop once a process page says nothing more will change.
  if (container.hasAttribute("data-ended")) return;
  const source = new EventSource(container.dataset.stream);
  source.addEventListener(eventName, (event) => {
    const ticked = new Set(
      [...container.querySelectorAll("input[name=pks]:checked")].map((box) => box.value));
    container.innerHTML = event.data;
    for (const box of container.querySelectorAll("input[name=pks]")) {
      box.checked = ticked.has(box.value);
    }
    container.dataset.updated = String(Date.now());
    const body = container.querySelector("[data-terminal]");
    if (body && body.dataset.terminal === "true") source.close();
  });
}

async function submitWrite(form, button) {
  const data = new FormData(form);
  const action = button.dataset.action;
  if (action === "kill" && !window.confirm("Kill the process(es)? This cannot be undone.")) return;
  const response = await fetch(button.formAction, {
    method: "POST",
    body: new URLSearchParams(data),
    headers: { "Accept": "application/json", "X-CSRF-Token": data.get("csrf") || "" },
    credentials: "same-origin",
  });
  let outcomes;
  try {
    const document_ = await response.json();
    outcomes = Array.isArray(document_) ? document_ : [{ ok: false, message: document_.error }];
  } catch {
    outcomes = [{ ok: false, message: `the server answered ${response.status}` }];
  }
  showNotice(outcomes);
}

document.addEventListener("DOMContentLoaded", () => {
  const table = document.getElementById("process-table");
  if (table) follow(table, "table");
  const body = document.getElementById("process-body");
  if (body) follow(body, "body");
  document.addEventListener("click", (event) => {
    const all = event.target.closest("[data-select-all]");
    if (all) {
      for (const box of document.querySelectorAll("input[name=pks]")) box.checked = all.checked;
      return;
    }
    const button = event.target.closest("button[data-action]");
    if (!button) return;
    event.preventDefault();
    submitWrite(button.form, button);
  });
});
