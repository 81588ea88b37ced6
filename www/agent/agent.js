// Baton agent console: the live queue, claims with leases, the hand-off packet, the
// thread after the hand-off, knowledge-base suggestions from the widget's own triage
// engine, reply, release, transfer and close. Several agents can work at once; the
// server decides who holds a conversation.
//
// Invariant: text from customers (and from the API generally) is only ever put in the
// page with textContent, never as HTML.

const REASONS = {
  sensitive_intent: "Sensitive topic",
  frustration: "Customer is frustrated",
  explicit_request: "Asked for a person",
  repeated_failure: "Answers didn't help",
  out_of_scope: "Bot couldn't answer",
};
const FRIENDLY_ERRORS = {
  already_claimed: "Another agent has this conversation.",
  not_claimed: "You no longer hold this conversation; claim it first.",
  not_in_queue: "This conversation is no longer in the queue.",
  at_capacity: "you already have as many conversations as you take at once. Close, put back or transfer one first.",
  conversation_closed: "this conversation has ended.",
};
const QUEUE_EVERY_MS = 2000;
// In a background tab the console still asks, less often: asking is what keeps its agent
// online for waiting customers (the edge counts an agent online for two minutes after
// they last asked, and browsers slow background timers to about once a minute).
const HIDDEN_QUEUE_EVERY_MS = 30000;
const EVENTS_EVERY_MS = 1000;
const RENEW_EVERY_MS = 20000;
// The longest reply the edge takes, in UTF-8 bytes as it counts them
// (`baton_protocol::MAX_MESSAGE_BYTES`); the console counts down from near it.
const MAX_REPLY_BYTES = 4000;
const COUNT_FROM_BYTES = 3500;
const AMBER_AFTER_MS = 2 * 60 * 1000;
const RED_AFTER_MS = 5 * 60 * 1000;

const $ = (id) => document.getElementById(id);
const form = $("connect");
const siteInput = $("site");
const tokenInput = $("token");
const waitingList = $("waiting");
const activeList = $("active");
const packetSection = $("packet");
const thread = $("thread");
const replyBox = $("reply");
const template = $("entry");

const state = {
  me: null,
  agents: [],
  claimedAt: {}, // when this console claimed a conversation
  forgottenAt: {}, // when this console let go of one
  renewEvery: {}, // conversation → ms between renewals
  renewedAt: {},
  held: new Set(), // conversations this agent holds (renewed every 20 s)
  open: null, // conversation id shown in the detail pane
  lastSeq: 0,
  seen: new Set(),
  threadCustomerText: null,
  packetCustomerText: null,
  packetShown: [], // the open packet's knowledge-base answers the customer already saw
  packetUnhelped: false, // …and whether the bot's answers did not help them
  pendingReply: null, // {text, clientId} kept after a network error for a retry
  queueTimer: null,
  eventsTimer: null,
  eventsInFlight: false,
  polls: 0,
  suggester: null,
  suggesterSite: null,
  richText: null, // the widget's formatter, once its wasm has loaded
  refusedLinks: null, // the widget's check for links that stay text, likewise
  sendAnyway: null, // a reply the agent was warned about and may send as it is
  waitingIds: null, // conversations waiting at the last refresh (null before the first)
  away: false, // the agent said they are away: customers are not told someone is online
  waitingCount: 0,
  entries: new Map(), // conversation → its entry in the last snapshot, waiting or active (with a claim)
  presenceSaid: null, // {id, state}: the open conversation's customer, as last shown
  transferred: new Map(), // conversation → who passed it to this agent, until opened
  unread: new Set(), // held conversations where the customer wrote since the agent looked
  ended: new Map(), // conversation → who ended it ("customer" or "agent"), from its thread
  caughtUp: false, // the open conversation's thread so far has been read once
  labels: {}, // conversation → the customer's words, to say which one a message is about
  newsAbout: null, // the conversation the news line is about
};
const TITLE = document.title;

// Kept for this tab across reloads (sessionStorage, like the token): one draft reply per
// conversation, when the agent last saw each customer's newest message, and the
// conversation on screen.
function recall(key, fallback) {
  try {
    return JSON.parse(sessionStorage.getItem(key)) || fallback;
  } catch (_) {
    return fallback;
  }
}
function keep(key, value) {
  try {
    if (value === null) sessionStorage.removeItem(key);
    else sessionStorage.setItem(key, JSON.stringify(value));
  } catch (_) { /* storage full or off: the console works without it */ }
}
// Drops from a kept record the conversations not in `ids`, storing it only if it changed.
function keepOnly(record, key, ids) {
  const gone = Object.keys(record).filter((id) => !ids.has(id));
  gone.forEach((id) => { delete record[id]; });
  if (gone.length) keep(key, record);
}
const drafts = recall("baton.drafts", {});
const seenCustomerAt = recall("baton.seen", {});
// Conversation → who passed it to this agent, once the agent has looked at it.
const seenTransfers = recall("baton.transfers", {});

// `cargo xtask dev` prints a link with the token in the fragment (never sent to the
// server); keep it for this tab and drop it from the address bar.
const fromLink = /^#token=([A-Za-z0-9_-]+)$/.exec(location.hash);
if (fromLink) {
  sessionStorage.setItem("baton.agentToken", fromLink[1]);
  history.replaceState(null, "", location.pathname);
}
tokenInput.value = sessionStorage.getItem("baton.agentToken") || "";
siteInput.value = sessionStorage.getItem("baton.site") || siteInput.value;

form.addEventListener("submit", (event) => {
  event.preventDefault();
  sessionStorage.setItem("baton.agentToken", tokenInput.value);
  sessionStorage.setItem("baton.site", siteInput.value);
  connect();
});
if (tokenInput.value) connect();

// --- API ---------------------------------------------------------------------

class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

async function api(method, path, body) {
  const init = { method, headers: { authorization: "Bearer " + tokenInput.value } };
  if (body !== undefined) {
    init.headers["content-type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path, init); // a network error rejects with TypeError
  let json = null;
  try { json = await response.json(); } catch (_) { json = null; }
  if (!response.ok) {
    const error = (json && json.error) || {};
    throw new ApiError(response.status, error.code || "http_" + response.status,
      error.message || "The server answered " + response.status + ".");
  }
  return json;
}

const site = () => siteInput.value;
const q = (params) => Object.entries(params)
  .map(([k, v]) => k + "=" + encodeURIComponent(v)).join("&");

function say(message) { $("status").textContent = message; }
// `words`: this call's own wording for some codes, over FRIENDLY_ERRORS; `about`: the
// conversation it concerns, named so the agent knows which one.
function alertUser(error, what, words = {}, about = null) {
  const text = error instanceof ApiError
    ? (words[error.code] || FRIENDLY_ERRORS[error.code] || error.message)
    : "Network error; check the connection and try again.";
  showAlert(what, text, about);
}
function showAlert(what, text, about = null) {
  $("alert").textContent = (what ? what + (about ? " (" + nameOf(about) + ")" : "") + ": " : "") + text;
}
function clearAlert() { $("alert").textContent = ""; }
// Good news and things that happened to a conversation (a transfer to this agent, the
// customer leaving): an alert too, but not an error. It goes once the agent has opened
// that conversation, or moved on from it.
function tell(message, about) {
  $("news").textContent = message;
  state.newsAbout = about;
}

// The customer's words for a conversation (its summary or first line), for messages.
function remember(id, words) {
  if (id && words && !state.labels[id]) state.labels[id] = words;
}
function nameOf(id) {
  const words = state.labels[id];
  if (!words) return "conversation " + id.slice(0, 8);
  return "“" + (words.length > 48 ? words.slice(0, 47).trimEnd() + "…" : words) + "”";
}

// What needs the agent, in this tab's title for when they work in another tab.
function updateTitle() {
  const parts = [];
  if (state.waitingCount) parts.push(state.waitingCount + " waiting");
  const unread = state.unread.size;
  if (unread) parts.push(unread + (unread === 1 ? " new message" : " new messages"));
  if (state.transferred.size) parts.push(state.transferred.size + " transferred to you");
  document.title = (parts.length ? "(" + parts.join(" · ") + ") " : "") + TITLE;
}

// --- Sign-in -------------------------------------------------------------------

async function connect() {
  clearTimeout(state.queueTimer);
  clearAlert();
  try {
    state.me = await api("GET", "/v1/agent/me");
  } catch (error) {
    state.me = null;
    showSignedIn(false);
    alertUser(error, "Could not sign in");
    // A wrong token waits for the agent; a network error retries by itself.
    if (!(error instanceof ApiError)) state.queueTimer = setTimeout(connect, QUEUE_EVERY_MS);
    return;
  }
  showMe(0);
  showSignedIn(true);
  say("");
  try {
    state.agents = await api("GET", "/v1/agent/agents");
  } catch (_) {
    state.agents = [];
  }
  fillTransferTargets();
  loadSuggester();
  await refreshQueue();
  // After a reload, the conversation that was on screen, with its draft.
  const last = recall("baton.open", null);
  if (last && last.site === site() && !state.open) openConversation(last.id);
  refreshAnalytics();
  refreshRelay();
}

// Who is signed in, and, for an agent with a capacity, how many of it they use.
function showMe(held) {
  const capacity = state.me.capacity;
  $("me").textContent = "Signed in as " + state.me.name +
    (capacity ? " · " + held + " of " + capacity + " conversations" : "") + " · site " + site();
}

// Signed in, the header says who and offers Away and Sign out; the sign-in form is gone.
function showSignedIn(signedIn) {
  $("me").hidden = !signedIn;
  $("away").hidden = !signedIn;
  $("sign-out").hidden = !signedIn;
  form.hidden = signedIn;
}

// Sign out: the token leaves this tab and this tab stops renewing reservations. What the
// agent holds stays theirs while another tab of theirs has the console open; otherwise it
// goes back to the queue when its reservation runs out (a minute), and the customer is told.
$("sign-out").addEventListener("click", () => {
  const held = state.held.size;
  Array.from(state.held).forEach(forget);
  state.me = null; // first, so no refresh starts again
  clearTimeout(state.queueTimer);
  if (state.open) closeDetail("");
  sessionStorage.removeItem("baton.agentToken");
  tokenInput.value = "";
  showSignedIn(false);
  $("live").textContent = "";
  $("analytics").hidden = true;
  $("relay").hidden = true;
  waitingList.replaceChildren();
  activeList.replaceChildren();
  state.waitingIds = null;
  state.waitingCount = 0;
  updateTitle();
  say("Signed out." + (held
    ? " " + (held === 1 ? "Your conversation goes" : "Your " + held + " conversations go") +
      " back to the queue within a minute, unless the console is open in another tab of yours."
    : ""));
  tokenInput.focus();
});

function fillTransferTargets() {
  const select = $("transfer-to");
  select.replaceChildren();
  // Colleagues who work on this site (no list of sites: every site), not oneself.
  const here = (a) => !a.sites || a.sites.includes(site());
  state.agents.filter((a) => here(a) && (!state.me || a.id !== state.me.id)).forEach((agent) => {
    const option = document.createElement("option");
    option.value = agent.id;
    const knows = (agent.languages || []).concat(agent.skills || []);
    option.textContent = agent.name + (knows.length ? " (" + knows.join(", ") + ")" : "");
    option.dataset.name = option.textContent;
    select.appendChild(option);
  });
  $("transfer-form").hidden = select.options.length === 0;
}

// How many conversations each colleague with a capacity holds, in the transfer list, and
// a full one cannot be picked: the agent sees it before trying, not after.
function showTransferLoads(active) {
  Array.from($("transfer-to").options).forEach((option) => {
    const agent = state.agents.find((a) => a.id === option.value);
    if (!agent || !agent.capacity) return;
    const held = active.filter((entry) => entry.claim && entry.claim.agent_id === agent.id).length;
    const full = held >= agent.capacity;
    option.textContent = option.dataset.name + " · " + held + " of " + agent.capacity + (full ? ", full" : "");
    option.disabled = full;
  });
}

// --- Queue ---------------------------------------------------------------------

async function refreshQueue() {
  clearTimeout(state.queueTimer);
  if (!state.me) return;
  try {
    const askedAt = Date.now();
    const queue = await api("GET", "/v1/agent/queue?" + q({ site: site(), away: state.away }));
    if (!state.me) return; // signed out meanwhile
    state.entries = new Map((queue.waiting || []).concat(queue.active || [])
      .map((entry) => [entry.conversation_id, entry]));
    renderWaiting(queue.waiting || []);
    renderActive(queue.active || [], askedAt);
    $("live").textContent = "Live · updated " + new Date().toLocaleTimeString();
    if ($("status").textContent === "Offline; retrying…") say("Back online.");
    state.polls += 1;
    if (state.polls % 5 === 0) { refreshAnalytics(); refreshRelay(); }
  } catch (error) {
    if (error instanceof ApiError) alertUser(error, "Could not load the queue");
    else {
      $("live").textContent = "Offline; retrying…";
      say("Offline; retrying…");
    }
  }
  state.queueTimer = setTimeout(refreshQueue, document.hidden ? HIDDEN_QUEUE_EVERY_MS : QUEUE_EVERY_MS);
}

// Away: the queue stays in view, but asking for it no longer keeps this agent online,
// so waiting customers are told nobody is there instead of being given a wait.
$("away").addEventListener("click", () => {
  state.away = !state.away;
  $("away").setAttribute("aria-pressed", String(state.away));
  say(state.away
    ? "You are away: customers waiting are told nobody is online (unless someone else is)."
    : "You are back online for waiting customers.");
  refreshQueue();
});

document.addEventListener("visibilitychange", () => {
  if (!document.hidden && state.me) refreshQueue();
});

// An intent as the customer saw it: its knowledge-base title once the site's model has
// loaded ("When will my card arrive?"), else its id in words ("Card arrival").
function intentName(id) {
  const title = state.suggester && state.suggester.title(id);
  if (title) return title;
  const words = id.replace(/_/g, " ");
  return words.charAt(0).toUpperCase() + words.slice(1);
}

function intentText(intent) {
  return intent
    ? intentName(intent.intent) + " (" + Math.round(intent.confidence * 100) + "%)"
    : "intent unknown";
}

function fillEntry(item, entry, index) {
  item.dataset.conversation = entry.conversation_id;
  const urgent = entry.reasons.includes("sensitive_intent") || entry.reasons.includes("frustration");
  item.classList.toggle("urgent", urgent);
  item.querySelector(".priority").textContent = "#" + (index + 1) + (urgent ? " · priority" : "");
  const intent = item.querySelector(".intent");
  intent.textContent = intentText(entry.intent);
  if (entry.intent) {
    intent.dataset.intent = entry.intent.intent;
    intent.dataset.confidence = String(entry.intent.confidence);
  }
  item.querySelector(".summary").textContent = entry.summary || "(no summary)";
  remember(entry.conversation_id, entry.summary);
  showPresence(item.querySelector(".presence"), entry.customer_presence);
  showPreviousHolder(item.querySelector(".previous"), entry.previous_holder);
  const reasons = item.querySelector(".reasons");
  entry.reasons.forEach((reason) => {
    const li = document.createElement("li");
    li.textContent = REASONS[reason] || reason;
    reasons.appendChild(li);
  });
  if (!entry.reasons.length) reasons.remove();
  const label = (entry.summary || entry.conversation_id.slice(0, 8));
  item.querySelector(".open").addEventListener("click", () => openConversation(entry.conversation_id));
  item.querySelector(".open").setAttribute("aria-label", "Open: " + label);
  return label;
}

// Whether the customer still has the chat open: "Customer is here", or since when they
// are gone (the edge waits out a page change or a reload before saying so). Nothing
// while their chat never connected.
function showPresence(element, presence) {
  element.replaceChildren();
  element.classList.toggle("left", Boolean(presence && presence.state === "left"));
  if (!presence) return;
  if (presence.state === "left") element.append("Customer left the chat ", timeOf(presence.left_at_ms));
  else element.append("Customer is here");
}

// Who had a waiting conversation before it came back to the queue, so the next agent
// knows the customer has already been spoken to.
function showPreviousHolder(element, holder) {
  element.replaceChildren();
  if (!holder) return;
  const you = state.me && holder.agent_id === state.me.id;
  const when = timeOf(holder.returned_at_ms);
  if (holder.returned === "lease_lapsed") {
    element.append((you ? "Your" : holder.agent_name + "'s") + " reservation ran out ", when);
  } else {
    element.append("Was with " + (you ? "you" : holder.agent_name) + ", released ", when);
  }
}

// A conversation's language by name, and whether this agent speaks it: a customer who
// wrote in French is not claimed by an agent who only reads English without a warning.
const languageNames = typeof Intl.DisplayNames === "function"
  ? new Intl.DisplayNames(["en"], { type: "language" }) : null;
function languageNote(language) {
  if (!language) return "language unknown";
  let name = language;
  try { name = (languageNames && languageNames.of(language)) || language; } catch (_) { /* not a language tag */ }
  const mine = (state.me && state.me.languages) || [];
  const speaks = !mine.length || mine.includes(language.split("-")[0].toLowerCase());
  return name + (speaks ? "" : ", not one of your languages");
}

// The entry button that has focus in `list`, so that a refresh, which rebuilds the list,
// can give it back: a keyboard user stays where they were.
function focusedEntry(list) {
  const element = document.activeElement;
  const item = element && list.contains(element) ? element.closest("li.entry") : null;
  return item ? { id: item.dataset.conversation, className: element.className.split(" ")[0] } : null;
}

function restoreFocus(item, focus) {
  if (!focus || focus.id !== item.dataset.conversation || !focus.className) return;
  const again = item.querySelector("." + focus.className);
  if (again) again.focus();
}

function renderWaiting(waiting) {
  $("count").textContent = String(waiting.length);
  // An agent working in another tab sees customers waiting in this tab's title, and a
  // screen reader hears when one arrives.
  state.waitingCount = waiting.length;
  updateTitle();
  const ids = waiting.map((entry) => entry.conversation_id);
  if (state.waitingIds) {
    const arrived = ids.filter((id) => !state.waitingIds.includes(id)).length;
    if (arrived) {
      $("arrivals").textContent =
        arrived === 1 ? "A new conversation is waiting." : arrived + " new conversations are waiting.";
    }
  }
  state.waitingIds = ids;
  $("empty").hidden = waiting.length > 0;
  const focus = focusedEntry(waitingList);
  waitingList.replaceChildren();
  waiting.forEach((entry, index) => {
    const item = template.content.firstElementChild.cloneNode(true);
    const label = fillEntry(item, entry, index);
    const sla = item.querySelector(".sla");
    sla.dataset.since = String(entry.created_at_ms);
    sla.dataset.kind = "waiting";
    item.querySelector(".meta").textContent =
      "Conversation " + entry.conversation_id.slice(0, 8) + " · " + languageNote(entry.language) +
      (entry.skill ? " · needs " + entry.skill : "");
    const claim = item.querySelector(".claim");
    claim.setAttribute("aria-label", "Claim: " + label);
    claim.addEventListener("click", () => claimConversation(entry.conversation_id));
    waitingList.appendChild(item);
    restoreFocus(item, focus);
  });
  tick();
}

function renderActive(all, askedAt) {
  // This agent's own conversations first: they are what the agent works on.
  const isMine = (entry) => Boolean(entry.claim && state.me && entry.claim.agent_id === state.me.id);
  const active = all.filter(isMine).concat(all.filter((entry) => !isMine(entry)));
  $("active-count").textContent = String(active.length);
  $("active-empty").hidden = active.length > 0;
  const mine = new Set();
  const focus = focusedEntry(activeList);
  activeList.replaceChildren();
  active.forEach((entry, index) => {
    const item = template.content.firstElementChild.cloneNode(true);
    item.classList.add("active-entry");
    const label = fillEntry(item, entry, index);
    item.querySelector(".priority").textContent = "#" + (index + 1);
    item.querySelector(".claim").remove();
    const held = entry.claim && state.me && entry.claim.agent_id === state.me.id;
    if (held) mine.add(entry.conversation_id);
    noteNews(entry, held);
    item.classList.toggle("mine", Boolean(held));
    // The accessible name starts with the visible word (WCAG 2.5.3, label in name).
    const verb = held ? "Open" : "View";
    item.querySelector(".open").textContent = verb;
    item.querySelector(".open").setAttribute("aria-label", verb + ": " + label);
    const sla = item.querySelector(".sla");
    sla.dataset.since = String(entry.created_at_ms);
    sla.dataset.kind = "active";
    const meta = item.querySelector(".meta");
    meta.replaceChildren();
    const who = document.createElement("span");
    who.className = "holder-name";
    who.textContent = entry.claim ? "With " + (held ? "you" : entry.claim.agent_name) : "Unclaimed";
    meta.appendChild(who);
    // A helpdesk's claim has no lease: it holds the conversation until it closes it.
    if (entry.claim && entry.claim.lease_until_ms != null) {
      const lease = document.createElement("span");
      lease.className = "lease";
      lease.dataset.until = String(entry.claim.lease_until_ms);
      lease.dataset.who = held ? "you" : entry.claim.agent_name;
      meta.append(" · ", lease);
    }
    meta.append(" · " + (entry.first_reply_at_ms ? "first reply sent" : "no reply yet"));
    markEntry(item);
    activeList.appendChild(item);
    restoreFocus(item, focus);
  });
  showTransferLoads(active);
  // Signals only for what this agent still holds.
  const claimed = (id) => { const entry = state.entries.get(id); return Boolean(entry && entry.claim); };
  state.unread.forEach((id) => { if (!claimed(id)) state.unread.delete(id); });
  state.transferred.forEach((_, id) => { if (!claimed(id)) state.transferred.delete(id); });
  // A conversation that left this agent can come back by another transfer: news again.
  keepOnly(seenCustomerAt, "baton.seen", mine);
  keepOnly(seenTransfers, "baton.transfers", mine);
  updateTitle();
  // The server is the truth about what this agent holds, except for what this console
  // claimed or let go of after the snapshot was requested.
  state.held.forEach((id) => { if ((state.claimedAt[id] || 0) > askedAt) mine.add(id); });
  mine.forEach((id) => { if ((state.forgottenAt[id] || 0) > askedAt) mine.delete(id); });
  state.held = mine;
  showMe(mine.size);
  mine.forEach((id) => {
    const entry = active.find((e) => e.conversation_id === id);
    if (!state.renewedAt[id] && entry) noteLease(id, entry.claim);
  });
  if (state.open) updateDetailMode();
  tick();
}

// What is new about a held conversation: another agent passed it to this one (the queue
// says who, however quickly it happened), or its customer wrote while it was not on
// screen.
function noteNews(entry, held) {
  const id = entry.conversation_id;
  if (!held) {
    state.unread.delete(id);
    return;
  }
  const from = entry.claim.transferred_by;
  if (from && seenTransfers[id] !== from && !state.transferred.has(id)) {
    state.transferred.set(id, from);
    tell(from + " transferred a conversation to you: " + nameOf(id) + ".", id);
  }
  const last = entry.last_customer_message_at_ms || 0;
  const onScreen = state.open === id && !document.hidden;
  if (seenCustomerAt[id] === undefined || onScreen) {
    if (seenCustomerAt[id] !== last) {
      seenCustomerAt[id] = last;
      keep("baton.seen", seenCustomerAt);
    }
  }
  if (last > seenCustomerAt[id]) {
    if (!state.unread.has(id)) $("arrivals").textContent = "New message from the customer in " + nameOf(id) + ".";
    state.unread.add(id);
  } else {
    state.unread.delete(id);
  }
}

// An Active entry's marks: a new message from its customer, passed to this agent.
function markEntry(item) {
  const id = item.dataset.conversation;
  const unread = state.unread.has(id);
  const from = state.transferred.get(id);
  item.classList.toggle("unread", unread);
  item.classList.toggle("transferred", from !== undefined);
  const flags = item.querySelector(".flags");
  flags.replaceChildren();
  const flag = (text) => {
    const span = document.createElement("span");
    span.className = "flag";
    span.textContent = text;
    flags.append(span);
  };
  if (unread) flag("New message from the customer");
  if (from !== undefined) flag("Transferred to you by " + from);
  const open = item.querySelector(".open");
  if (!open.dataset.name) open.dataset.name = open.getAttribute("aria-label") || "";
  const base = open.dataset.name;
  const notes = [unread ? "new message" : "", from !== undefined ? "transferred to you" : ""].filter(Boolean);
  open.setAttribute("aria-label", base + (notes.length ? " (" + notes.join(", ") + ")" : ""));
}

// The other agent who holds `id` at the last snapshot, if another does.
function otherHolder(id) {
  const entry = state.entries.get(id);
  const claim = entry && entry.claim;
  return claim && state.me && claim.agent_id !== state.me.id ? claim.agent_name : undefined;
}

// The agent looked at `id`: its marks go.
function markSeen(id) {
  const entry = state.entries.get(id);
  if (entry && entry.last_customer_message_at_ms) {
    seenCustomerAt[id] = entry.last_customer_message_at_ms;
    keep("baton.seen", seenCustomerAt);
  }
  state.unread.delete(id);
  const from = state.transferred.get(id);
  if (from) {
    seenTransfers[id] = from;
    keep("baton.transfers", seenTransfers);
  }
  state.transferred.delete(id);
  const item = activeList.querySelector("li[data-conversation='" + CSS.escape(id) + "']");
  if (item) markEntry(item);
  updateTitle();
}

function clock(ms) {
  const seconds = Math.max(0, Math.floor(ms / 1000));
  const m = Math.floor(seconds / 60);
  const s = seconds % 60;
  return m + ":" + String(s).padStart(2, "0");
}

// Once a second: SLA timers and lease countdowns, without refetching.
function tick() {
  const now = Date.now();
  document.querySelectorAll(".sla[data-since]").forEach((el) => {
    const waited = now - Number(el.dataset.since);
    const item = el.closest("li");
    el.textContent = (el.dataset.kind === "waiting" ? "waiting " : "escalated ") + clock(waited) +
      (el.dataset.kind === "active" ? " ago" : "");
    const level = waited > RED_AFTER_MS ? "red" : waited > AMBER_AFTER_MS ? "amber" : "ok";
    if (el.dataset.kind === "waiting" && item) {
      item.classList.toggle("sla-amber", level === "amber");
      item.classList.toggle("sla-red", level === "red");
    }
  });
  document.querySelectorAll("time.ago[data-at]").forEach((el) => {
    el.textContent = ago(now - Number(el.dataset.at), new Date(Number(el.dataset.at)));
  });
  document.querySelectorAll(".lease[data-until]").forEach((el) => {
    const left = Number(el.dataset.until) - now;
    // The console renews its agent's reservations by itself; another agent's runs out
    // if their console is gone.
    el.textContent = left > 0 ? "reserved for " + el.dataset.who + " for " + clock(left) : "reservation ran out";
  });
}
setInterval(tick, 1000);

// --- Claims ---------------------------------------------------------------------

// Words naming who has `id` now, for a refusal because another agent holds it: the
// queue is asked again first, so the name is the current holder's.
async function holderWords(error, id) {
  if (!(error instanceof ApiError) || error.code !== "already_claimed") return {};
  await refreshQueue();
  const holder = otherHolder(id);
  return holder ? { already_claimed: holder + " has this conversation." } : {};
}

async function claimConversation(id) {
  clearAlert();
  let result;
  try {
    result = await api("POST", "/v1/agent/claim", { site: site(), conversation: id });
  } catch (error) {
    const words = await holderWords(error, id);
    alertUser(error, "Could not claim", words, id);
    if (!words.already_claimed) refreshQueue();
    return;
  }
  state.held.add(id);
  state.claimedAt[id] = Date.now();
  delete state.forgottenAt[id];
  noteLease(id, result && result.claim);
  say("You have this conversation.");
  await openConversation(id);
  refreshQueue();
}

// Claims are leases: renew each held one every 20 s, or sooner when the server's
// lease is short (a third of it), so a claim lapses only when this console vanishes.
function noteLease(id, claim) {
  if (!claim) return;
  const length = claim.lease_until_ms - Date.now();
  state.renewEvery[id] = Math.min(RENEW_EVERY_MS, Math.max(2000, Math.floor(length / 3)));
  state.renewedAt[id] = Date.now();
}

let renewing = false;
setInterval(async () => {
  if (renewing) return;
  renewing = true;
  const now = Date.now();
  for (const id of Array.from(state.held)) {
    if (!state.held.has(id)) continue; // let go of while renewing another
    if (now - (state.renewedAt[id] || 0) < (state.renewEvery[id] || RENEW_EVERY_MS)) continue;
    try {
      // `renew` only extends a claim still held: it never takes back a conversation
      // this agent released or lost meanwhile (the server says `not_claimed`).
      const result = await api("POST", "/v1/agent/renew", { site: site(), conversation: id });
      noteLease(id, result && result.claim);
      if (result && result.closed) {
        forget(id);
        if (state.open === id) updateDetailMode();
      }
    } catch (error) {
      if (error instanceof ApiError && error.code === "conversation_closed") {
        forget(id); // the customer ended it
        if (state.open !== id) tell("A chat you had has ended: " + nameOf(id) + ".", id);
        else {
          // Its thread says how in a moment; meanwhile no claim button, the draft kept.
          if (!state.ended.has(id)) state.ended.set(id, "customer");
          updateDetailMode();
        }
      } else if (error instanceof ApiError) {
        forget(id);
        alertUser(error, "Lost a conversation", await holderWords(error, id), id);
        if (state.open === id) updateDetailMode();
      }
    }
  }
  renewing = false;
}, 1000);

// --- Detail pane ------------------------------------------------------------------

async function openConversation(id) {
  let view;
  try {
    view = await api("GET", "/v1/agent/packet?" + q({ site: site(), conversation: id }));
  } catch (error) {
    alertUser(error, "Could not open the packet", {}, id);
    if (error instanceof ApiError && state.open === null) keep("baton.open", null);
    return;
  }
  const packet = view.packet;
  const switching = state.open !== view.conversation_id;
  if (switching) saveDraft();
  if (switching && state.newsAbout && [state.open, view.conversation_id].includes(state.newsAbout)) tell("", null);
  state.open = view.conversation_id;
  keep("baton.open", { site: site(), id: state.open });
  remember(state.open, packet.summary ||
    (packet.transcript.find((line) => line.author === "customer") || {}).text);
  markSeen(state.open);
  if (switching) $("customer-typing").hidden = true;
  packetSection.dataset.conversation = view.conversation_id;
  $("packet-title").textContent = "Conversation " + view.conversation_id.slice(0, 8);
  renderCustomer(view.customer, view.earlier || []);
  packetSection.querySelector(".packet-summary").textContent = packet.summary || "(no summary)";
  const reasons = packetSection.querySelector(".packet-reasons");
  reasons.replaceChildren();
  (packet.reasons.length ? packet.reasons : ["customer_choice"]).forEach((reason) => {
    const li = document.createElement("li");
    li.textContent = REASONS[reason] || "Chose to talk to a person";
    reasons.appendChild(li);
  });
  const mood = (packet.sentiment || []).map((s) => (s < -0.3 ? "upset" : s > 0.3 ? "positive" : "neutral"));
  packetSection.querySelector(".packet-meta").textContent =
    "Intent: " + intentText(packet.intent) +
    " · Answers already shown: " + ((packet.answers_shown || []).map(intentName).join(", ") || "none") +
    " · Mood: " + (mood.join(" → ") || "unknown") +
    " · Language: " + (packet.language || "unknown");
  const transcript = packetSection.querySelector(".transcript");
  transcript.replaceChildren();
  state.packetCustomerText = null;
  state.packetShown = packet.answers_shown || [];
  state.packetUnhelped = packet.reasons.includes("repeated_failure");
  packet.transcript.forEach((line) => {
    transcript.appendChild(lineItem(line.author, authorName(line.author), line.text, line.at_ms, UNVOUCHED));
    if (line.author === "customer") state.packetCustomerText = line.text;
  });
  if (switching) {
    thread.replaceChildren();
    $("thread-empty").hidden = false;
    state.lastSeq = 0;
    state.seen = new Set();
    state.caughtUp = false;
    state.threadCustomerText = null;
    state.pendingReply = null;
    // Each conversation keeps its own draft: switching back finds it as it was left.
    replyBox.value = drafts[state.open] || "";
    showCount();
    showLinkWarning();
    $("resolution").value = "";
  }
  packetSection.hidden = false;
  if (switching) $("packet-scroll").scrollTop = 0;
  updateDetailMode();
  updateSuggestion();
  packetSection.focus();
  pollEvents();
}

// Who the customer is, when the site verified it, and what they needed before: the
// agent reads it here instead of asking them again.
function renderCustomer(customer, earlier) {
  const box = $("customer");
  box.hidden = !customer;
  if (!customer) return;
  box.querySelector(".customer-who").textContent =
    "id " + customer.id + ", verified by the site · " + customer.name + " · " + customer.email +
    " (name and email as the page gave them, not verified)";
  const list = box.querySelector(".earlier");
  list.replaceChildren();
  earlier.forEach((conversation) => {
    const item = document.createElement("li");
    const when = new Date(conversation.created_at_ms).toLocaleString();
    const why = conversation.reasons.map((reason) => REASONS[reason] || reason).join(", ");
    const outcome = conversation.outcome;
    const ended = outcome.resolved
      ? "Resolved" + (outcome.resolution ? ": " + outcome.resolution : "")
      : "Not resolved by an agent";
    const rated = outcome.rating ? " · Rated " + outcome.rating + "/5" : "";
    item.append(
      when + " · " + (conversation.summary || "(no summary)") + (why ? " · " + why : "") +
      " · " + ended + rated,
    );
    // The customer's own words with their rating (masked by the edge), as text.
    if (outcome.comment) {
      const comment = document.createElement("q");
      comment.className = "comment";
      comment.dir = "auto";
      comment.textContent = outcome.comment;
      item.append(", the customer wrote: ", comment);
    }
    item.append(" ");
    const open = document.createElement("button");
    open.type = "button";
    open.className = "secondary";
    open.textContent = "Open";
    open.setAttribute("aria-label", "Open the conversation of " + when);
    open.addEventListener("click", () => openConversation(conversation.conversation_id));
    item.appendChild(open);
    list.appendChild(item);
  });
  $("earlier-empty").hidden = earlier.length > 0;
}

function authorName(author, agentName) {
  if (author === "customer") return "Customer";
  if (author === "bot") return "Bot";
  if (author === "agent") return agentName || "Agent";
  return "Note";
}

// One line of a conversation: who, when (relative, the exact time on hover and in
// `datetime`), and the text, laid out in its own direction (Arabic right to left).
function lineItem(author, who, text, atMs, vouched) {
  const li = document.createElement("li");
  li.className = "line from-" + author;
  const strong = document.createElement("strong");
  strong.textContent = who;
  li.append(strong, " ");
  if (atMs) li.append(timeOf(atMs), " ");
  // The bot's answers and agents' messages in the formatting the customer sees; the
  // customer's own text and the notes are never markup.
  let body;
  if (author === "agent" || author === "bot") {
    const lines = author === "agent" ? LINES_KEPT : LINES_JOINED;
    body = formatted(text, lines, vouched);
    if (body.nodeType === Node.TEXT_NODE) {
      // The formatter has not loaded yet: formatted when it has (formatLater).
      const span = document.createElement("span");
      span.append(body);
      span.dataset.formatLater = lines;
      span.dataset.vouched = vouched;
      body = span;
    }
  } else {
    body = document.createElement("span");
    body.textContent = text;
  }
  li.append(asLineText(body));
  return li;
}

// A line's text: isolated, in its own direction (Arabic right to left).
function asLineText(body) {
  body.classList.add("text");
  body.dir = "auto";
  return body;
}

function timeOf(atMs) {
  const time = document.createElement("time");
  time.className = "ago";
  const at = new Date(atMs);
  time.dateTime = at.toISOString();
  time.title = at.toLocaleString();
  time.dataset.at = String(atMs);
  time.textContent = ago(Date.now() - atMs, at);
  return time;
}

function ago(ms, at) {
  if (ms < 45 * 1000) return "just now";
  if (ms < 60 * 60 * 1000) return Math.max(1, Math.round(ms / 60000)) + " min ago";
  if (ms < 24 * 60 * 60 * 1000) return Math.round(ms / 3600000) + " h ago";
  return at.toLocaleDateString();
}

// What a new line inside a paragraph is: a line break in an agent's message (they pressed
// Enter), a space in a knowledge-base answer (site owners may hard-wrap their files), as
// the widget shows each.
const LINES_KEPT = "kept";
const LINES_JOINED = "joined";

// Who wrote a line, as far as the console can tell: the edge (a live event, VOUCHED), or
// the customer's browser (the hand-off packet, UNVOUCHED: a browser could claim anything,
// a "bot" line with a link to a fake sign-in page among them). Links in unvouched lines
// are shown, not followed.
const VOUCHED = "vouched";
const UNVOUCHED = "unvouched";

// Text in the widget's safe formatting (paragraphs, "- " lists, **bold**, https and mailto
// links, line breaks), built element by element from the typed structure the widget's own
// parser gives (`rich_text` in its wasm), never as HTML. Plain text until that has loaded.
function formatted(text, lines, vouched) {
  let rich = null;
  try {
    rich = state.richText ? JSON.parse(state.richText(text)) : null;
  } catch (_) {
    rich = null;
  }
  if (!rich) return document.createTextNode(text);
  const box = document.createElement("div");
  box.className = "rich";
  rich.blocks.forEach((block) => {
    if (block.Paragraph) {
      const p = document.createElement("p");
      appendInlines(p, block.Paragraph, lines, vouched);
      box.appendChild(p);
    } else if (block.List) {
      const list = document.createElement("ul");
      block.List.forEach((inlines) => {
        const item = document.createElement("li");
        appendInlines(item, inlines, lines, vouched);
        list.appendChild(item);
      });
      box.appendChild(list);
    }
  });
  return box;
}

// Lines shown before the formatter loaded (a thread opened at once after a reload), in
// the formatting the customer sees now that it has.
function formatLater() {
  document.querySelectorAll("[data-format-later]").forEach((plain) => {
    const body = formatted(plain.textContent, plain.dataset.formatLater, plain.dataset.vouched);
    if (body.nodeType !== Node.TEXT_NODE) plain.replaceWith(asLineText(body));
  });
}

function appendInlines(parent, inlines, lines, vouched) {
  inlines.forEach((inline) => {
    if ("Text" in inline) {
      appendLines(parent, inline.Text, lines);
    } else if ("Bold" in inline) {
      const bold = document.createElement("strong");
      appendLines(bold, inline.Bold, lines);
      parent.append(bold);
    } else if ("Link" in inline && vouched !== VOUCHED) {
      // Shown, not followed: a line that says it is the bot's may have been written by
      // anyone who can send a packet.
      appendLines(parent, inline.Link.label + " (" + inline.Link.url + ")", lines);
    } else if ("Link" in inline) {
      const link = document.createElement("a");
      link.href = inline.Link.url; // https: or mailto: only, checked by the parser
      appendLines(link, inline.Link.label, lines);
      link.target = "_blank";
      link.rel = "noopener noreferrer";
      parent.append(link);
    }
  });
}

// Text with each "\n" as a <br> or a space: text nodes and elements only.
function appendLines(parent, text, lines) {
  if (lines !== LINES_KEPT) {
    parent.append(text.replace(/\n/g, " "));
    return;
  }
  text.split("\n").forEach((line, index) => {
    if (index > 0) parent.append(document.createElement("br"));
    parent.append(line);
  });
}

// The detail pane's header and tools say where the conversation stands: this agent's,
// another agent's, waiting, or ended (then an unsent draft stays, read-only, to copy).
function updateDetailMode() {
  const id = state.open;
  const ended = state.ended.get(id);
  const mine = state.held.has(id) && !ended;
  const holder = otherHolder(id);
  const keepsDraft = Boolean(ended) && replyBox.value.trim() !== "";
  const hadFocus = $("work").contains(document.activeElement);
  $("work").hidden = !mine && !keepsDraft;
  $("assist").hidden = !mine;
  if (hadFocus && $("work").hidden) packetSection.focus();
  $("work").classList.toggle("ended", Boolean(ended));
  replyBox.readOnly = Boolean(ended);
  $("reply-label").textContent = ended
    ? "Your unsent reply (the chat has ended: copy it to reach the customer another way)"
    : "Reply to the customer";
  $("claim-open").hidden = mine || Boolean(ended) || Boolean(holder);
  $("holder").textContent = ended === "customer" ? "Ended by the customer."
    : ended ? "Closed."
    : mine ? "You have this conversation."
    : holder ? "With " + holder + "."
    : "Waiting — claim it to reply.";
  showCustomerPresence(id, ended);
}

// The open conversation's customer: here or gone, in its header, and said to screen
// readers when it changes while the conversation is open.
function showCustomerPresence(id, ended) {
  const entry = state.entries.get(id);
  const presence = (!ended && entry && entry.customer_presence) || null;
  showPresence($("customer-presence"), presence);
  const now = presence ? presence.state : null;
  const before = state.presenceSaid && state.presenceSaid.id === id ? state.presenceSaid.state : null;
  if (before && now && before !== now) {
    $("announce").textContent = now === "left" ? "The customer left the chat." : "The customer is back in the chat.";
  }
  state.presenceSaid = { id, state: now };
}

$("claim-open").addEventListener("click", () => { if (state.open) claimConversation(state.open); });

// This agent no longer holds `id` (released, transferred or closed).
function forget(id) {
  state.held.delete(id);
  delete state.claimedAt[id];
  state.forgottenAt[id] = Date.now();
  delete state.renewedAt[id];
  delete state.renewEvery[id];
}

function holdAgain(id) {
  state.held.add(id);
  delete state.forgottenAt[id];
  state.renewedAt[id] = Date.now();
}

function closeDetail(message) {
  if (state.open) delete drafts[state.open];
  if (state.newsAbout && state.newsAbout === state.open) tell("", null);
  keep("baton.drafts", drafts);
  keep("baton.open", null);
  clearAlert();
  state.open = null;
  clearTimeout(state.eventsTimer);
  packetSection.hidden = true;
  delete packetSection.dataset.conversation;
  say(message);
  $("queue-title").focus();
  refreshQueue();
}

async function pollEvents() {
  clearTimeout(state.eventsTimer);
  const id = state.open;
  if (!id) return;
  if (!state.eventsInFlight && !document.hidden) {
    state.eventsInFlight = true;
    try {
      const update = await api("GET", "/v1/agent/events?" +
        q({ site: site(), conversation: id, after: state.lastSeq }));
      if (state.open === id) {
        appendEvents(update.events || []);
        state.caughtUp = true;
        // Only that they type, never what: the widget says so every few seconds.
        $("customer-typing").hidden = !update.customer_typing;
      }
    } catch (_) {
      // Quietly retried on the next tick; the queue poll reports being offline.
    } finally {
      state.eventsInFlight = false;
    }
  }
  if (state.open === id) state.eventsTimer = setTimeout(pollEvents, EVENTS_EVERY_MS);
}

function appendEvents(events) {
  // The conversation scrolls in its own region, the reply box below it in view: it
  // follows new lines while the agent is at its end (or just replied), and a reopened
  // conversation they hold opens at its latest lines.
  const region = $("packet-scroll");
  const atEnd = region.scrollHeight - region.scrollTop - region.clientHeight < 48;
  const firstLoad = !state.caughtUp;
  let newCustomerText = null;
  let replied = false;
  events.forEach((entry) => {
    if (state.seen.has(entry.seq)) return;
    state.seen.add(entry.seq);
    state.lastSeq = Math.max(state.lastSeq, entry.seq);
    const event = entry.event;
    let li;
    if (event.type === "message") {
      const who = event.author === "customer" ? "Customer" : (event.agent_name || "Agent");
      li = lineItem(event.author, who, event.text, entry.at_ms, VOUCHED);
      if (event.author === "customer") {
        state.threadCustomerText = event.text;
        newCustomerText = event.text;
      } else if (event.author === "agent") {
        replied = true;
      }
    } else if (event.type === "agent_joined") {
      li = lineItem("system", "Note", event.agent_name + " joined.", entry.at_ms, VOUCHED);
    } else if (event.type === "agent_left") {
      li = lineItem("system", "Note", event.agent_name + " left.", entry.at_ms, VOUCHED);
    } else if (event.type === "resolved") {
      li = lineItem("system", "Note", "Resolved by " + (event.by === "customer" ? "the customer" : "an agent") +
        (event.resolution ? ": " + event.resolution : "."), entry.at_ms, VOUCHED);
      conversationEnded(event.by === "customer" ? "customer" : "agent");
    } else {
      return;
    }
    li.dataset.seq = String(entry.seq);
    thread.appendChild(li);
  });
  $("thread-empty").hidden = thread.children.length > 0;
  if (newCustomerText !== null) {
    $("announce").textContent = "Customer: " + newCustomerText;
    updateSuggestion();
  }
  const follow = firstLoad ? state.held.has(state.open) && replied : atEnd || replied;
  if (events.length && follow) region.scrollTop = region.scrollHeight;
}

// The open conversation ended. While the agent was on it (not when an old one is
// opened), they are told, and their draft stays to copy.
function conversationEnded(by) {
  const id = state.open;
  state.ended.set(id, by);
  if (state.held.has(id)) forget(id); // nothing left to renew
  if (state.caughtUp && by === "customer") {
    clearAlert(); // a "lost the conversation" from the renewal meanwhile says less
    tell("The customer ended the chat (" + nameOf(id) + ")." +
      (replyBox.value.trim() ? " Your unsent reply is kept to copy." : ""), id);
  }
  updateDetailMode();
}

// --- Reply, release, transfer, close -----------------------------------------------

function randomId() {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

$("reply-form").addEventListener("submit", (event) => { event.preventDefault(); sendReply(); });
replyBox.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
    event.preventDefault();
    sendReply();
  }
});

// While the agent writes, the customer sees "… is typing": a notice at most every few
// seconds (the widget shows it for six), only for a conversation this agent holds. A lost
// notice only means the customer does not see it; nothing else depends on it.
const TYPING_EVERY_MS = 3000;
let typingSentAt = 0;
// The draft of the conversation on screen, kept for switching back and for a reload.
function saveDraft() {
  const id = state.open;
  if (!id || replyBox.readOnly) return;
  if (replyBox.value.trim()) drafts[id] = replyBox.value;
  else delete drafts[id];
  keep("baton.drafts", drafts);
}

const utf8 = new TextEncoder();
// The reply's length as the edge counts it: UTF-8 bytes of what is sent.
function replyBytes(text) { return utf8.encode(text).length; }
const number = (n) => n.toLocaleString("en-US");

// The edge counts bytes: where that is more than the letters the agent sees, say why.
function countNote(text, bytes) {
  return bytes === Array.from(text).length ? "" : " (accented and non-Latin letters count as 2 to 4)";
}

function tooLongMessage(text) {
  const bytes = replyBytes(text);
  return "Your reply is " + number(bytes) + " characters" + countNote(text, bytes) +
    "; the limit is " + number(MAX_REPLY_BYTES) + ".";
}

// Near the limit, how much is left; over it, by how much.
function showCount() {
  const text = replyBox.value.trim();
  const bytes = replyBytes(text);
  const counter = $("reply-count");
  counter.hidden = bytes < COUNT_FROM_BYTES;
  counter.classList.toggle("over", bytes > MAX_REPLY_BYTES);
  counter.textContent = number(bytes) + " of " + number(MAX_REPLY_BYTES) + " characters" +
    countNote(text, bytes) + (bytes > MAX_REPLY_BYTES ? ": too long to send" : "");
}

// Links the customer would see as text (`http:`, `javascript:`…), by the widget's own
// parser: warned about while writing, and a first Send stops to say so.
function linksShownAsText(text) {
  try {
    return state.refusedLinks ? JSON.parse(state.refusedLinks(text)) || [] : [];
  } catch (_) {
    return [];
  }
}

function linkWarning(urls) {
  if (!urls.length) return "";
  const quoted = urls.map((url) => "“" + url + "”").join(", ");
  return (urls.length === 1 ? "This link reaches" : "These links reach") + " the customer as plain text, not " +
    (urls.length === 1 ? "a link" : "links") + ": " + quoted + ". Only https:// and mailto: links work.";
}

function showLinkWarning() {
  const warning = $("reply-warning");
  warning.textContent = linkWarning(linksShownAsText(replyBox.value.trim()));
  warning.hidden = warning.textContent === "";
}

replyBox.addEventListener("input", () => {
  saveDraft();
  showCount();
  showLinkWarning();
  const id = state.open;
  const now = Date.now();
  if (!id || !state.held.has(id) || !replyBox.value.trim() || now - typingSentAt < TYPING_EVERY_MS) return;
  typingSentAt = now;
  api("POST", "/v1/agent/typing", { site: site(), conversation: id }).catch(() => {});
});

let sending = false;
async function sendReply() {
  const text = replyBox.value.trim();
  const id = state.open;
  if (!text || !id || sending || replyBox.readOnly) return;
  if (replyBytes(text) > MAX_REPLY_BYTES) {
    showAlert("Reply not sent", tooLongMessage(text), id);
    return;
  }
  const asText = linksShownAsText(text);
  if (asText.length && state.sendAnyway !== text) {
    state.sendAnyway = text;
    showAlert("Reply not sent yet", linkWarning(asText) + " Press Send again to send it as it is.", id);
    return;
  }
  state.sendAnyway = null;
  // Retrying the same text after a network error reuses its client_id: stored once.
  const pending = state.pendingReply;
  const clientId = pending && pending.text === text && pending.conversation === id ? pending.clientId : randomId();
  state.pendingReply = { text, clientId, conversation: id };
  sending = true;
  clearAlert();
  try {
    await api("POST", "/v1/agent/reply", { site: site(), conversation: id, client_id: clientId, text });
    typingSentAt = 0;
    state.pendingReply = null;
    if (replyBox.value.trim() === text && state.open === id) {
      replyBox.value = "";
      showCount();
      showLinkWarning();
    }
    if (drafts[id] && drafts[id].trim() === text) {
      delete drafts[id];
      keep("baton.drafts", drafts);
    }
    say("Reply sent.");
    pollEvents();
  } catch (error) {
    if (error instanceof ApiError) state.pendingReply = null;
    alertUser(error, "Reply not sent", { field_too_long: tooLongMessage(text) }, id);
  } finally {
    sending = false;
  }
}

$("release").addEventListener("click", async () => {
  const id = state.open;
  if (!id) return;
  forget(id); // first, so a lease renewal cannot re-claim it meanwhile
  try {
    await api("POST", "/v1/agent/release", { site: site(), conversation: id });
  } catch (error) {
    if (!(error instanceof ApiError)) holdAgain(id);
    updateDetailMode();
    alertUser(error, "Could not release", {}, id);
    return;
  }
  closeDetail("Put back in the queue.");
});

$("transfer-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const id = state.open;
  const select = $("transfer-to");
  if (!id || !select.value) return;
  const agent = state.agents.find((a) => a.id === select.value);
  const name = agent ? agent.name : select.options[select.selectedIndex].textContent;
  forget(id); // first, so a lease renewal cannot re-claim it meanwhile
  try {
    await api("POST", "/v1/agent/transfer", { site: site(), conversation: id, to_agent: select.value });
  } catch (error) {
    // Refused because the other agent is full: the conversation is still this agent's.
    const full = error instanceof ApiError && error.code === "at_capacity";
    if (!(error instanceof ApiError) || full) holdAgain(id);
    updateDetailMode();
    alertUser(error, "Could not transfer", {
      at_capacity: name + " already has as many conversations as they take at once.",
    }, id);
    return;
  }
  closeDetail("Transferred to " + name + ".");
});

$("close-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const id = state.open;
  if (!id) return;
  const note = $("resolution").value.trim();
  const body = { site: site(), conversation: id };
  if (note) body.resolution = note;
  forget(id); // first, so a lease renewal cannot re-claim it meanwhile
  try {
    await api("POST", "/v1/agent/close", body);
  } catch (error) {
    if (!(error instanceof ApiError)) holdAgain(id);
    updateDetailMode();
    alertUser(error, "Could not close", {}, id);
    return;
  }
  closeDetail("Conversation closed.");
});

// --- Knowledge-base suggestions (the widget's triage engine, in wasm) ------------------

async function loadSuggester() {
  const wanted = site();
  if (state.suggesterSite === wanted) return;
  state.suggesterSite = wanted;
  state.suggester = null;
  $("suggester-note").textContent = "";
  try {
    const module = await import("/widget/baton.js");
    await module.default({ module_or_path: "/widget/baton_bg.wasm" });
    state.richText = module.rich_text;
    state.refusedLinks = module.refused_links;
    formatLater();
    showLinkWarning();
    const response = await fetch("/sites/" + encodeURIComponent(wanted) + "/model.bin");
    if (!response.ok) throw new Error("no model");
    const bytes = new Uint8Array(await response.arrayBuffer());
    if (state.suggesterSite !== wanted) return;
    state.suggester = new module.ReplySuggester(bytes);
    updateSuggestion();
    // The conversations already listed name their intents by title now, in place.
    document.querySelectorAll(".intent[data-intent]").forEach((element) => {
      element.textContent = intentText({
        intent: element.dataset.intent,
        confidence: Number(element.dataset.confidence),
      });
    });
  } catch (_) {
    state.suggester = null;
    $("suggester-note").textContent = "Knowledge-base suggestions are unavailable for this site.";
  }
}

let suggestedAnswer = null;
function updateSuggestion() {
  const box = $("suggestion");
  const text = state.threadCustomerText || state.packetCustomerText;
  let suggestion = null;
  if (state.suggester && text) {
    try {
      const json = state.suggester.suggest(text);
      suggestion = json ? JSON.parse(json) : null;
    } catch (_) { suggestion = null; }
  }
  if (!suggestion) { box.hidden = true; suggestedAnswer = null; return; }
  suggestedAnswer = suggestion.answer;
  box.dataset.intent = suggestion.intent;
  // The bot showed it already (and maybe it did not help): said before the answer, so
  // the agent does not send the customer the same text again without knowing.
  const shown = state.packetShown.includes(suggestion.intent);
  box.classList.toggle("shown", shown);
  box.dataset.shown = String(shown);
  box.querySelector(".suggestion-title").textContent = "Suggested from the knowledge base: " + suggestion.title;
  box.querySelector(".suggestion-shown").textContent = !shown ? ""
    : state.packetUnhelped ? "Already shown to the customer by the bot, and it did not help them."
    : "Already shown to the customer by the bot.";
  box.querySelector(".suggestion-answer").replaceChildren(formatted(suggestion.answer, LINES_JOINED, VOUCHED));
  $("insert").setAttribute("aria-label", "Insert the suggested answer: " + suggestion.title +
    (shown ? " (already shown to the customer)" : ""));
  box.hidden = false;
}

// A knowledge-base answer as an agent would type it: lines its site owner hard-wrapped
// inside a paragraph run together (as the customer saw them), since in an agent's reply
// each line stays a line. Blank lines and "- " items are kept.
function unwrapped(answer) {
  const lines = answer.split("\n");
  const isItem = (line) => /^\s*- /.test(line);
  return lines.map((line, index) => {
    if (index === 0) return line;
    const previous = lines[index - 1];
    const runsOn = line.trim() && previous.trim() && !isItem(line) && !isItem(previous);
    return (runsOn ? " " : "\n") + (runsOn ? line.trim() : line);
  }).join("");
}

// Insert puts the answer where the cursor is (at the end unless the agent moved it),
// keeping what they wrote, on its own paragraph.
$("insert").addEventListener("click", () => {
  if (suggestedAnswer === null || replyBox.readOnly) return;
  const start = replyBox.selectionStart;
  const end = replyBox.selectionEnd;
  const before = replyBox.value.slice(0, start);
  const after = replyBox.value.slice(end);
  const text = (before.trim() && !before.endsWith("\n\n") ? (before.endsWith("\n") ? "\n" : "\n\n") : "") +
    unwrapped(suggestedAnswer) + (after.trim() ? "\n\n" : "");
  replyBox.focus();
  replyBox.setRangeText(text, start, end, "end");
  replyBox.dispatchEvent(new Event("input", { bubbles: true }));
});

// --- Analytics -----------------------------------------------------------------------

// --- Helpdesk relay (sites with a webhook_url) -----------------------------------

// Deliveries to the site's external helpdesk: what is still on its way, and the dead
// letters, each replayable. Hidden for sites that relay nowhere.
async function refreshRelay() {
  let deliveries;
  try {
    deliveries = await api("GET", "/v1/agent/webhooks?" + q({ site: site() }));
  } catch (_) { return; }
  const pending = deliveries.pending || [];
  const dead = deliveries.dead_letters || [];
  $("relay").hidden = pending.length === 0 && dead.length === 0;
  $("relay-note").textContent = pending.length + " on the way to your helpdesk · " + dead.length +
    " not delivered" + (dead.length ? ": replay once the helpdesk is back. These conversations are in the queue here either way." : ".");
  const list = $("dead-letters");
  list.replaceChildren();
  dead.forEach((letter) => {
    const item = document.createElement("li");
    item.className = "dead-letter";
    const what = document.createElement("span");
    const conversation = letter.conversation_id.slice(0, 8);
    what.textContent = letter.event_type + " · conversation " + conversation + " · " +
      letter.attempts + (letter.attempts === 1 ? " attempt" : " attempts") + " · last: " + (letter.last_outcome || "none");
    const button = document.createElement("button");
    button.type = "button";
    button.className = "secondary replay";
    button.textContent = "Replay";
    button.setAttribute("aria-label", "Replay " + letter.event_type + " for conversation " + conversation);
    button.addEventListener("click", () => replayDelivery(letter.id, button));
    item.append(what, button);
    list.appendChild(item);
  });
}

async function replayDelivery(id, button) {
  button.disabled = true;
  try {
    await api("POST", "/v1/agent/webhooks/replay", { site: site(), id });
    say("Sent to the helpdesk again.");
  } catch (error) {
    alertUser(error, "Could not replay");
  }
  refreshRelay();
}

async function refreshAnalytics() {
  let stats;
  try {
    stats = await api("GET", "/v1/agent/analytics?" + q({ site: site() }));
  } catch (_) { return; }
  $("analytics").hidden = false;
  $("stat-escalated").textContent = String(stats.escalated);
  const byReason = Object.entries(stats.escalated_by_reason || {})
    .filter(([, n]) => n > 0)
    .map(([reason, n]) => (REASONS[reason] || reason) + " " + n);
  $("stat-reasons").textContent = byReason.join(" · ") || "none";
  $("stat-resolved").textContent = String(stats.resolved);
  $("stat-first-reply").textContent = stats.median_first_reply_seconds == null
    ? "–" : clock(stats.median_first_reply_seconds * 1000);
  $("stat-csat").textContent = stats.csat_count
    ? (stats.csat_average == null ? "–" : stats.csat_average.toFixed(1)) + " average (" + stats.csat_count + " ratings)"
    : "no ratings";
  $("stat-bot").textContent = stats.bot_answers_helpful + " helpful · " + stats.bot_answers_unhelpful + " not";
}
