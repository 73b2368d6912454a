"use strict";
// Each pane is one phone. Message bodies are user input: they are only ever set as
// textContent, never parsed as HTML.
const POLL_MS = 800;
const ROLES = [
  { name: "Student", phone: "+2348000000001", role: "student" },
  { name: "Tutor", phone: "+2348000000101", role: "tutor" },
  { name: "Agent", phone: "+2348000000201", role: "agent" },
];
const TICKS = {
  sending: "🕓", queued: "🕓", sent: "✓", delivered: "✓✓", read: "✓✓",
  received: "✓", failed: "⚠ not delivered", undelivered: "⚠ not delivered",
};
const panes = document.getElementById("panes");
const template = document.getElementById("pane-template");
let added = 0;

function sampleImage() {
  return `${location.origin}/static/sample-homework.png`;
}

function mediaLine(url) {
  const line = document.createElement("span");
  line.className = "media-line";
  // Only web links become links; anything else (javascript:, data:) stays text.
  if (/^https?:\/\//i.test(url)) {
    const link = document.createElement("a");
    link.href = url;
    link.target = "_blank";
    link.rel = "noopener noreferrer";
    link.textContent = `📎 ${url}`;
    line.appendChild(link);
  } else {
    line.textContent = `📎 ${url}`;
  }
  return line;
}

function bubble(message) {
  const item = document.createElement("li");
  item.className = `${message.direction} status-${message.status}`;
  if (message.body) {
    const body = document.createElement("span");
    body.className = "body";
    body.textContent = message.body;
    item.appendChild(body);
  }
  for (const url of message.media_urls) item.appendChild(mediaLine(url));
  const meta = document.createElement("span");
  meta.className = "meta";
  const time = new Date(message.at).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  meta.textContent = `${time} ${TICKS[message.status] ?? message.status}`;
  meta.title = message.statuses.join(" → ");
  item.appendChild(meta);
  return item;
}

function addPane(role) {
  const node = template.content.firstElementChild.cloneNode(true);
  const nameInput = node.querySelector(".name");
  const phoneInput = node.querySelector(".phone");
  const log = node.querySelector(".log");
  const error = node.querySelector(".error");
  const text = node.querySelector(".text");
  const media = node.querySelector(".media");
  const roleSelect = node.querySelector(".role");
  const note = node.querySelector(".note");
  nameInput.value = role.name;
  phoneInput.value = role.phone;
  roleSelect.value = role.role ?? "student";
  let shown = "";
  let open = true;

  async function refresh() {
    const phone = phoneInput.value.trim();
    if (!phone) return;
    try {
      const response = await fetch(`/sandbox/conversations/${encodeURIComponent(phone)}`);
      if (!response.ok) return;
      const data = await response.json();
      const seen = JSON.stringify(data.messages.map(m => [m.sid, m.status]));
      if (seen === shown) return;
      shown = seen;
      const atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
      log.replaceChildren(...data.messages.map(bubble));
      if (atBottom) log.scrollTop = log.scrollHeight;
    } catch (_) {
      // The sandbox restarting: the next poll tries again.
    }
  }

  async function poll() {
    if (!open) return;
    await refresh();
    setTimeout(poll, POLL_MS);
  }

  async function send() {
    const body = text.value.replace(/\s+$/, "");
    const mediaUrl = media.hidden ? "" : media.value.trim();
    if (!body.trim() && !mediaUrl) return;
    error.textContent = "";
    const payload = { from: phoneInput.value.trim(), body, profile_name: nameInput.value.trim() || null };
    if (mediaUrl) payload.media_url = mediaUrl;
    try {
      const response = await fetch("/sandbox/twilio/inbound", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(payload),
      });
      const result = await response.json().catch(() => ({}));
      if (response.status === 422) {
        error.textContent = "Check the phone number (+ and 6 to 15 digits) and the image URL.";
        return;
      }
      text.value = "";
      media.hidden = true;
      if (!response.ok) {
        error.textContent = result.detail || `The sandbox answered ${response.status}.`;
      } else if (result.gateway_status < 200 || result.gateway_status > 299) {
        error.textContent = `The gateway answered ${result.gateway_status}.`;
      }
    } catch (_) {
      error.textContent = "The sandbox did not answer.";
    }
    refresh();
  }

  // A tutor or agent phone must be known to the desk as one: the sandbox registers it
  // through the conversation service's admin API (doing so twice changes nothing).
  async function claimRole() {
    const played = roleSelect.value;
    note.textContent = "";
    if (played === "student") return;
    try {
      const response = await fetch("/sandbox/roles", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ phone: phoneInput.value.trim(), role: played, name: nameInput.value.trim() || "Demo" }),
      });
      if (!response.ok) {
        const result = await response.json().catch(() => ({}));
        error.textContent = typeof result.detail === "string" ? result.detail : `Could not make this phone a ${played}.`;
        return;
      }
      note.textContent = played === "tutor"
        ? "This phone is a tutor: new homework arrives here; send ACCEPT, then the solution."
        : "This phone is a support agent: send TICKETS to see open tickets, END to close one.";
    } catch (_) {
      error.textContent = "The sandbox did not answer.";
    }
  }

  roleSelect.addEventListener("change", claimRole);
  node.querySelector(".composer").addEventListener("submit", event => {
    event.preventDefault();
    send();
  });
  // Enter sends, Shift+Enter starts a new line, as in WhatsApp Web.
  text.addEventListener("keydown", event => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      send();
    }
  });
  node.querySelector(".attach").addEventListener("click", () => {
    media.hidden = !media.hidden;
    if (!media.hidden && !media.value) media.value = sampleImage();
  });
  node.querySelector(".close").addEventListener("click", () => {
    open = false;
    node.remove();
  });
  phoneInput.addEventListener("change", () => { shown = ""; log.replaceChildren(); refresh(); claimRole(); });
  panes.appendChild(node);
  poll();
  claimRole();
  return node;
}

function nextRole() {
  const role = ROLES[added] ?? {
    name: `Student ${added - ROLES.length + 2}`,
    phone: `+234800000${String(added - ROLES.length + 2).padStart(4, "0")}`,
    role: "student",
  };
  added += 1;
  return role;
}

document.getElementById("add-pane").addEventListener("click", () => {
  addPane(nextRole()).querySelector(".text").focus();
});
document.getElementById("clear-all").addEventListener("click", async () => {
  if (!confirm("Forget every message the sandbox holds?")) return;
  await fetch("/sandbox/twilio/messages", { method: "DELETE" });
});
// A student, a tutor and an agent side by side, ready to play a whole flow.
for (let i = 0; i < ROLES.length; i += 1) addPane(nextRole());
