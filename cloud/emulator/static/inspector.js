// The inspector: one system's timeline, followed live (Server-Sent Events from the cloud), and the demo controls.
// Everything it asks for is on this page's own origin, as JSON; nothing is loaded from anywhere else.
(function () {
  "use strict";

  var root = document.querySelector("[data-inspector]");
  if (!root) {
    return;
  }
  var timeline = root.querySelector("[data-timeline]");
  var panel = root.querySelector("[data-timeline-scroll]");
  var empty = root.querySelector("[data-timeline-empty]");
  var announce = root.querySelector("[data-announce]");
  var result = root.querySelector("[data-control-result]");
  var streamState = root.querySelector("[data-stream-state]");
  var seen = {};

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) {
      node.className = className;
    }
    if (text !== undefined && text !== null) {
      node.textContent = text;
    }
    return node;
  }

  function field(name) {
    return root.querySelector("[data-" + name + "]");
  }

  // --- time ------------------------------------------------------------------------------------------

  var MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

  function pad(number) {
    return number < 10 ? "0" + number : String(number);
  }

  // "06 Dec 2026 10:00:00": the page says the times are UTC, as the portal and HOME do.
  function when(iso) {
    if (!iso) {
      return "";
    }
    var moment = new Date(iso);
    if (isNaN(moment.getTime())) {
      return iso;
    }
    return pad(moment.getUTCDate()) + " " + MONTHS[moment.getUTCMonth()] + " " + moment.getUTCFullYear() + " " +
      pad(moment.getUTCHours()) + ":" + pad(moment.getUTCMinutes()) + ":" + pad(moment.getUTCSeconds());
  }

  // --- the token ---------------------------------------------------------------------------------------

  // JSON with one member per line, but a short array (a row of a credits file's tables) on one line.
  function pretty(value, indent) {
    var pad = indent || "";
    var flat = JSON.stringify(value);
    if (value === null || typeof value !== "object" || (Array.isArray(value) && flat.length <= 96)) {
      return flat;
    }
    var inner = pad + "  ";
    if (Array.isArray(value)) {
      return "[\n" + value.map(function (part) { return inner + pretty(part, inner); }).join(",\n") + "\n" + pad + "]";
    }
    var keys = Object.keys(value);
    if (!keys.length) {
      return "{}";
    }
    return "{\n" + keys.map(function (name) {
      return inner + JSON.stringify(name) + ": " + pretty(value[name], inner);
    }).join(",\n") + "\n" + pad + "}";
  }

  function tokenView(token, bytes) {
    var box = el("div", "token");
    if (!token) {
      if (bytes) {
        box.appendChild(el("p", "muted", "The token (" + bytes.toLocaleString("en") +
          " bytes) is larger than the journal keeps; download the file to see it."));
        return box;
      }
      return null;
    }
    var signature = token.signature || {};
    var verdict = el("p", "signature " + (signature.verified ? "signature-ok" : "signature-bad"));
    verdict.appendChild(el("strong", null, signature.verified ? "✓ Signature verified" : "✗ Signature not valid"));
    verdict.appendChild(document.createTextNode(" " + (signature.note || "")));
    box.appendChild(verdict);
    if (token.header) {
      box.appendChild(el("h4", null, "JOSE header"));
      box.appendChild(el("pre", "json", pretty(token.header)));
    }
    if (token.claims) {
      box.appendChild(el("h4", null, "Claims"));
      box.appendChild(el("pre", "json", pretty(token.claims)));
    }
    box.appendChild(el("h4", null, "The token as it travelled (compact JWS: header . claims . signature)"));
    var compact = el("pre", "jwt");
    String(token.compact).split(".").forEach(function (part, index) {
      if (index > 0) {
        compact.appendChild(document.createTextNode("."));
      }
      compact.appendChild(el("span", "jwt-" + ["header", "claims", "signature"][Math.min(index, 2)], part));
    });
    box.appendChild(compact);
    return box;
  }

  // --- items -------------------------------------------------------------------------------------------

  // The server's order: each side's own time, then the machine's clock (microseconds) within the same second.
  function key(item) {
    return item.at + " " + (item.noted_at || "") + (item.lane === "cloud" ? " 0 " : " 1 ") + item.id;
  }

  function arrow(item) {
    var cell = el("div", "arrow");
    if (!item.crossing) {
      return cell;
    }
    var toHome = item.crossing === "to_home";
    cell.classList.add(toHome ? "arrow-to-home" : "arrow-to-cloud");
    cell.appendChild(el("span", "arrow-line", toHome ? "⟶" : "⟵"));
    cell.appendChild(el("span", "arrow-label", item.by_hand ? "by hand" : "link"));
    cell.setAttribute("title", (toHome ? "Crossed to HOME" : "Crossed to the cloud") +
      (item.by_hand ? ", carried by a person" : ", over the link"));
    return cell;
  }

  function render(item) {
    var row = el("li", "item lane-" + item.lane + " tone-" + item.tone);
    row.setAttribute("data-id", item.id);
    row.setAttribute("data-key", key(item));
    row.setAttribute("data-kind", item.kind);
    var card = el("div", "event");
    var token = tokenView(item.token, item.token_bytes);
    // Only an item with a token opens; the others say all they have in their one or two lines.
    var holder = token ? el("details") : el("div", "event-plain");
    var line = el(token ? "summary" : "div", "event-line");
    var stamp = el("time", "event-time", when(item.at));
    stamp.setAttribute("datetime", item.at);
    stamp.setAttribute("title", item.lane === "cloud" ? "By the cloud's clock (UTC)" : "By HOME's clock (UTC)");
    line.appendChild(stamp);
    line.appendChild(el("span", "visually-hidden", item.lane === "cloud" ? "Cloud: " : "HOME: "));
    line.appendChild(el("span", "event-title", item.title));
    if (item.token) {
      var verified = item.token.signature && item.token.signature.verified;
      line.appendChild(el("span", "jwt-badge" + (verified ? "" : " jwt-badge-bad"), verified ? "JWT ✓" : "JWT ✗"));
    }
    if (item.detail) {
      line.appendChild(el("span", "event-detail", item.detail));
    }
    holder.appendChild(line);
    if (token) {
      var body = el("div", "event-body");
      body.appendChild(token);
      holder.appendChild(body);
    }
    card.appendChild(holder);
    if (item.lane === "cloud") {
      row.appendChild(card);
      row.appendChild(arrow(item));
    } else {
      row.appendChild(arrow(item));
      row.appendChild(card);
    }
    return row;
  }

  // The panel scrolls by itself on a wide screen: it follows the newest event unless the person scrolled up.
  function following() {
    return panel.scrollTop + panel.clientHeight >= panel.scrollHeight - 80;
  }

  // Run a change of the page (an item, the status above the panel), keeping the panel at its newest if it was.
  function keepingNewest(change) {
    var follow = following();
    change();
    if (follow) {
      panel.scrollTop = panel.scrollHeight;
    }
  }

  function add(item) {
    if (seen[item.id]) {
      return;
    }
    seen[item.id] = true;
    var row = render(item);
    var mine = row.getAttribute("data-key");
    var after = null;
    var rows = timeline.children;
    for (var index = rows.length - 1; index >= 0; index -= 1) {
      if (rows[index].getAttribute("data-key") <= mine) {
        after = rows[index];
        break;
      }
    }
    keepingNewest(function () {
      timeline.insertBefore(row, after ? after.nextSibling : timeline.firstChild);
      empty.hidden = true;
    });
    announce.textContent = (item.lane === "cloud" ? "Cloud: " : "HOME: ") + item.title;
  }

  // --- status --------------------------------------------------------------------------------------------

  function badge(text, kind) {
    return el("span", "badge badge-" + kind, text);
  }

  function fill(name, nodes) {
    var target = field(name);
    target.textContent = "";
    nodes.forEach(function (node) {
      target.appendChild(typeof node === "string" ? document.createTextNode(node) : node);
    });
  }

  function faultsText(faults) {
    if (!faults || !faults.active) {
      return "none";
    }
    var said = [];
    if (faults.cut) {
      said.push("link cut");
    }
    if (faults.latency_ms) {
      said.push(faults.latency_ms + " ms latency");
    }
    (faults.drop_next || []).forEach(function (message) { said.push("drop next " + message); });
    (faults.duplicate_next || []).forEach(function (message) { said.push("duplicate next " + message); });
    return said.join(", ");
  }

  function clockText(clock) {
    if (!clock || !clock.now) {
      return "unknown";
    }
    return when(clock.now) + (clock.virtual ? " (virtual)" : " (wall clock)");
  }

  function showStatus(status) {
    var system = status.system;
    fill("cloud-link", [system.online ? badge("Online", "online") : badge("Offline", "offline")]);
    fill("cloud-seq", ["issued " + system.seq + ", HOME confirmed " + system.acked_seq]);
    fill("cloud-faults", [faultsText(status.faults)]);
    if (status.faults && status.faults.active) {
      field("cloud-faults").appendChild(document.createTextNode(" "));
      field("cloud-faults").appendChild(badge("fault", "danger"));
    }
    fill("cloud-clock", [clockText(status.cloud_clock)]);
    var home = status.home;
    var form = root.querySelector("[data-address-form]");
    if (!home.url) {
      fill("home-address", ["HOME has not said where it answers."]);
      fill("home-link", [badge("address unknown", "warning")]);
      fill("home-clock", ["—"]);
      form.hidden = false;
      return;
    }
    var address = el("code", null, home.url);
    fill("home-address", ["At ", address, home.source === "link" ? " (announced on the link)" : " (told)"]);
    if (!home.reachable) {
      fill("home-link", [badge("not answering", "danger")]);
      field("home-address").appendChild(document.createTextNode(": " + (home.problem || "")));
      fill("home-clock", ["—"]);
      form.hidden = false;
      return;
    }
    form.hidden = true;
    var link = home.link || {};
    var states = { online: "Online", offline: "Offline", disabled: "Disconnected (link off)", connecting: "Connecting",
      not_linked: "Not linked" };
    fill("home-link", [badge(states[link.state] || String(link.state), link.state === "online" ? "online" : "offline")]);
    fill("home-clock", [clockText(home.clock)]);
  }

  // --- controls ------------------------------------------------------------------------------------------

  async function send(method, url, body) {
    var response = await fetch(url, {
      method: method,
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(body),
      credentials: "same-origin",
      cache: "no-store",
    });
    var answer = await response.json();
    if (!response.ok) {
      throw new Error(answer && answer.error ? answer.error.message : "HTTP " + response.status);
    }
    return answer;
  }

  function say(text, bad) {
    result.textContent = text;
    result.classList.toggle("control-error", Boolean(bad));
  }

  async function control(action) {
    try {
      say(await action(), false);
    } catch (error) {
      say(error.message, true);
    }
  }

  root.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-link], button[data-fault], button[data-advance]");
    if (!button || button.disabled) {
      return;
    }
    if (button.hasAttribute("data-link")) {
      var enabled = button.getAttribute("data-link") === "true";
      control(async function () {
        var answer = await send("PUT", root.getAttribute("data-link-url"), { enabled: enabled });
        return "HOME's cloud link is " + (answer.cloud.enabled ? "switched on (" + answer.cloud.state + ")." :
          "switched off: HOME is disconnected.");
      });
    } else if (button.hasAttribute("data-fault")) {
      var fault = JSON.parse(button.getAttribute("data-fault"));
      control(async function () {
        var answer = await send("POST", root.getAttribute("data-faults-url"), fault);
        return "Link faults now: " + faultsText(answer.faults) + ".";
      });
    } else {
      var seconds = Number(button.getAttribute("data-advance"));
      control(async function () {
        var answer = await send("POST", root.getAttribute("data-clock-url"), { advance_seconds: seconds });
        return "The clock moved to " + when(answer.cloud.now) + " UTC; the cloud ran " + answer.cloud.handled +
          " scheduled item(s) on the way. " + (answer.home.note || "");
      });
    }
  });

  root.querySelector("[data-address-form]").addEventListener("submit", function (event) {
    event.preventDefault();
    var url = event.target.elements.url.value.trim();
    control(async function () {
      var answer = await send("PUT", root.getAttribute("data-address-url"), { url: url });
      return "The cloud reads HOME's journal at " + answer.url + ".";
    });
  });

  // --- the stream ----------------------------------------------------------------------------------------

  function live(text, kind) {
    streamState.textContent = text;
    streamState.className = "stream-state badge badge-" + kind;
  }

  var stream = new EventSource(root.getAttribute("data-stream"));
  stream.addEventListener("open", function () { live("Live", "online"); });
  stream.addEventListener("error", function () { live("Reconnecting…", "warning"); });
  stream.addEventListener("item", function (message) { add(JSON.parse(message.data)); });
  stream.addEventListener("status", function (message) {
    keepingNewest(function () { showStatus(JSON.parse(message.data)); });
  });
  window.addEventListener("pagehide", function () { stream.close(); });
})();
