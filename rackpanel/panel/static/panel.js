// The browser twin of the wood panel: one snapshot per server-sent event, drawn in place.
"use strict";

const $ = (sel, root = document) => root.querySelector(sel);
const el = (tag, attrs = {}, ...children) => {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  }
  for (const child of children) node.append(child);
  return node;
};
const rgb = (c) => `rgb(${c.map((x) => (x ? 255 : 0)).join(",")})`;
const STATE_TEXT = {
  up: "up", down: "down", off: "power off", crashed: "crashed",
  partitioned: "partitioned", unknown: "no exporter",
};

let snapshot = null;
let shape = "";

async function post(url, body) {
  const response = await fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body || {}),
  });
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(answer.error || `${response.status} ${response.statusText}`);
  return answer;
}

function say(text, bad = false) {
  const message = $("#message");
  message.textContent = text;
  message.className = bad ? "bad" : "";
}

// ---- stops ----------------------------------------------------------------------------------
async function toggle(target, on) {
  const action = on === false ? "on" : "off";
  try {
    await post("api/stop", { target, action });
    say(`power ${action} ${target}`);
  } catch (err) {
    say(`power ${action} ${target}: ${err.message}`, true);
  }
}

function stopButton(target, label, words) {
  return el("button", {
    class: "stop", "data-target": target, type: "button", "data-words": words.join(","),
    onclick: (ev) => toggle(target, ev.currentTarget.dataset.on === "true" ? true
      : ev.currentTarget.dataset.on === "false" ? false : null),
  }, el("span", { class: "mushroom", "aria-hidden": "true" }), el("span", { class: "label" }, label));
}

// ---- keypad -----------------------------------------------------------------------------
async function press(writer, button, hold) {
  const query = hold ? `?hold=${hold}` : "";
  try {
    await post(`api/keypad/${encodeURIComponent(writer)}/${button}${query}`);
  } catch (err) {
    say(`${writer} ${button}: ${err.message}`, true);
  }
}

function selectButton(writer) {
  // A long press opens the menu as soon as it has been held long enough (as on the plate);
  // a release before that is a short press.
  let timer = null;
  let held = false;
  const button = el("button", { class: "key select", type: "button", "data-key": "select",
    title: "SELECT (hold to open the CL menu)" }, "SELECT");
  const start = (ev) => {
    if (ev.button !== undefined && ev.button !== 0 && ev.type !== "keydown") return;
    held = false;
    button.classList.add("holding");
    const hold = (snapshot && snapshot.hold_seconds) || 2;
    timer = setTimeout(() => {
      held = true;
      timer = null;
      button.classList.remove("holding");
      press(writer, "select", hold);
    }, hold * 1000);
  };
  const end = (ev) => {
    button.classList.remove("holding");
    if (timer !== null) {
      clearTimeout(timer);
      timer = null;
      if (ev.type === "pointerup") press(writer, "select");
    }
  };
  button.addEventListener("pointerdown", start);
  button.addEventListener("pointerup", end);
  button.addEventListener("pointerleave", end);
  button.addEventListener("pointercancel", end);
  // the keyboard too: holding Enter or Space is a long press, a tap a short one
  button.addEventListener("keydown", (ev) => {
    if (ev.key !== "Enter" && ev.key !== " ") return;
    ev.preventDefault();
    if (!ev.repeat) start(ev);
  });
  button.addEventListener("keyup", (ev) => {
    if (ev.key !== "Enter" && ev.key !== " ") return;
    ev.preventDefault();
    end({ type: "pointerup" });
  });
  button.addEventListener("contextmenu", (ev) => ev.preventDefault());
  return button;
}

function keypad(writer) {
  const key = (name, text) => el("button", {
    class: `key ${name}`, type: "button", "data-key": name, title: name.toUpperCase(),
    onclick: () => press(writer, name),
  }, text);
  return el("div", { class: "keypad", role: "group", "aria-label": `${writer} keypad` },
    key("up", "▲"), key("left", "◀"), selectButton(writer), key("right", "▶"), key("down", "▼"));
}

// ---- building (once per topology) ------------------------------------------------------------
function build(s) {
  const board = $("#board");
  board.replaceChildren();
  for (const dc of s.datacenters) {
    const racks = el("div", { class: "racks" });
    for (const rack of dc.racks) {
      const nodes = el("ul", { class: "nodes" });
      for (const node of rack.nodes) {
        nodes.append(el("li", { class: "node", "data-node": node.name, title: node.address },
          el("span", { class: "led", "aria-hidden": "true" }),
          el("span", { class: "name" }, node.name),
          el("span", { class: "state" })));
      }
      racks.append(el("div", { class: "rack", "data-rack": rack.target },
        el("h3", {}, rack.name), nodes, stopButton(rack.target, `${rack.name} power`, ["ON", "OFF"])));
    }
    board.append(el("div", { class: "dc", "data-dc": dc.name },
      el("h2", {}, el("span", { class: "swatch", style: `background:${rgb(dc.color)}` }), dc.name),
      racks));
  }
  const links = el("div", { class: "links" });
  for (const link of s.dc_links) {
    links.append(el("div", { class: "dclink", "data-link": link.target },
      el("span", { class: "wire", "aria-hidden": "true" }),
      stopButton(link.target, `link ${link.label}`, ["UP", "CUT"])));
  }
  board.append(links);
  board.append(el("p", { class: "exporters" }));

  const clients = $("#clients");
  clients.replaceChildren();
  for (const w of s.writers) {
    clients.append(el("article", { class: "client", "data-writer": w.name },
      el("h2", {}, `${w.name} `, el("small", {}, `local ${w.local_dc}`)),
      el("div", { class: "lcd", role: "img", "aria-label": `${w.name} LCD` },
        el("div", { class: "line" }), el("div", { class: "line" })),
      el("p", { class: "cls" }),
      keypad(w.name),
      el("div", { class: "stats" },
        el("div", { class: "stat ratio" }, el("span", { class: "k" }, "success 1m"),
          el("span", { class: "v" }, "–"), spark()),
        el("div", { class: "stat latency" }, el("span", { class: "k" }, "p95 latency"),
          el("span", { class: "v" }, "–"), spark()))));
  }
}

function spark() {
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("viewBox", "0 0 100 24");
  svg.setAttribute("preserveAspectRatio", "none");
  svg.setAttribute("class", "spark");
  const path = document.createElementNS("http://www.w3.org/2000/svg", "polyline");
  svg.append(path);
  return svg;
}

function drawSpark(svg, points, max) {
  const line = svg.querySelector("polyline");
  if (!points || points.length < 2) { line.setAttribute("points", ""); return; }
  const t0 = points[0][0];
  const span = Math.max(1, points[points.length - 1][0] - t0);
  const top = max || Math.max(...points.map((p) => p[1]), 1e-9);
  line.setAttribute("points", points.map(([t, v]) =>
    `${((t - t0) / span * 100).toFixed(1)},${(23 - Math.min(v / top, 1) * 22).toFixed(1)}`).join(" "));
}

// ---- updating (every snapshot) ---------------------------------------------------------------
function setStop(button, on, enabled) {
  button.dataset.on = on === null ? "unknown" : String(on);
  button.disabled = !enabled;
  button.setAttribute("aria-pressed", on === false ? "true" : "false");
  const label = button.querySelector(".label");
  const base = label.dataset.base || label.textContent;
  label.dataset.base = base;
  const [onWord, offWord] = button.dataset.words.split(",");
  label.textContent = `${base} ${on === null ? "?" : on ? onWord : offWord}`;
}

function update(s) {
  $("#cluster").textContent = s.cluster;
  $("#mode").textContent = { sim: "simulator", compose: "compose", pi: "Raspberry Pis" }[s.mode] || s.mode;
  document.title = `rackpanel — ${s.cluster}`;
  const nav = $("#links");
  nav.replaceChildren(...s.links.map((l) => el("a", { href: l.url, target: "_blank", rel: "noopener" }, l.label)));

  for (const dc of s.datacenters) {
    for (const rack of dc.racks) {
      const rackEl = $(`.rack[data-rack="${CSS.escape(rack.target)}"]`);
      rackEl.dataset.on = String(rack.on);
      setStop($(".stop", rackEl), rack.on, s.stops_enabled);
      for (const node of rack.nodes) {
        const li = $(`.node[data-node="${CSS.escape(node.name)}"]`, rackEl);
        li.dataset.state = node.state;
        const downFrom = Object.entries(node.views).filter(([, v]) => v === 0).map(([dc]) => dc);
        $(".state", li).textContent = node.state === "partitioned"
          ? `partitioned: down from ${downFrom.join(", ")}` : STATE_TEXT[node.state] || node.state;
        li.title = `${node.address}: ${node.detail}`;
      }
    }
  }
  for (const link of s.dc_links) {
    const linkEl = $(`.dclink[data-link="${CSS.escape(link.target)}"]`);
    linkEl.dataset.up = String(link.up);
    setStop($(".stop", linkEl), link.up, s.stops_enabled);
  }
  $(".exporters").textContent = `${s.exporters.answering}/${s.exporters.total} exporters answering` +
    (s.stops_enabled ? "" : " · the stops are physical: read-only here");

  for (const w of s.writers) {
    const card = $(`.client[data-writer="${CSS.escape(w.name)}"]`);
    const lcd = $(".lcd", card);
    lcd.style.setProperty("--backlight", rgb(w.color));
    lcd.dataset.color = w.color.join(",");
    lcd.classList.toggle("dark", !w.reachable || w.color.every((x) => !x));
    const lines = lcd.querySelectorAll(".line");
    lines[0].textContent = (w.lines[0] || "").padEnd(16).slice(0, 16);
    lines[1].textContent = (w.lines[1] || "").padEnd(16).slice(0, 16);
    $(".cls", card).textContent = w.reachable
      ? `write ${w.write_cl} · read ${w.read_cl}${w.menu ? ` · ${w.menu} menu open` : ""}`
      : "writer not answering";
    for (const b of card.querySelectorAll(".key")) b.disabled = !w.keypad;
    const ratio = $(".ratio", card);
    $(".v", ratio).textContent = w.success_ratio === null ? "–" : `${(w.success_ratio * 100).toFixed(0)} %`;
    drawSpark($(".spark", ratio), w.history.ratio, 1);
    const latency = $(".latency", card);
    $(".v", latency).textContent = w.latency_ms === null ? "–" : `${w.latency_ms.toFixed(1)} ms`;
    drawSpark($(".spark", latency), w.history.latency_ms, 0);
  }

  $("#alerts-source").textContent = s.alerts_source ? `(${s.alerts_source})` : "(no Prometheus)";
  const list = $("#alert-list");
  list.replaceChildren(...(s.alerts.length
    ? s.alerts.map((a) => el("li", { class: `alert ${a.severity}`, "data-alert": a.name, title: a.summary },
      el("b", {}, a.name), " ", a.where))
    : [el("li", { class: "none" }, "none firing")]));
}

function receive(data) {
  snapshot = JSON.parse(data);
  const next = JSON.stringify([snapshot.datacenters.map((d) => [d.name, d.racks.map((r) => [r.target, r.nodes.map((n) => n.name)])]),
    snapshot.dc_links.map((l) => l.target), snapshot.writers.map((w) => w.name)]);
  if (next !== shape) { build(snapshot); shape = next; }
  update(snapshot);
  document.body.dataset.version = String(snapshot.version);
}

function connect() {
  const live = $("#live");
  const source = new EventSource("events");
  source.addEventListener("snapshot", (ev) => {
    live.textContent = "live";
    live.className = "live on";
    receive(ev.data);
  });
  source.onerror = () => {
    live.textContent = "reconnecting…";
    live.className = "live off";
  };
}

connect();
