// The portal works without this file; it adds dialogs, the live online status and small form helpers.
"use strict";

(function () {
  const modal = document.getElementById("modal");
  const modalBody = modal ? modal.querySelector("[data-modal-body]") : null;
  let opener = null;

  // --- small form helpers --------------------------------------------------------------------

  function enhance(root) {
    root.querySelectorAll("[data-confirm-word]").forEach(function (input) {
      const button = document.getElementById(input.dataset.enables);
      if (!button) return;
      const update = function () {
        button.disabled = input.value !== input.dataset.confirmWord; // exactly the word, as the server wants it
      };
      input.addEventListener("input", update);
      update();
    });
    root.querySelectorAll("[data-reveal]").forEach(function (box) {
      const target = document.getElementById(box.dataset.reveal);
      if (!target) return;
      const update = function () {
        target.hidden = !box.checked;
        target.querySelectorAll("input").forEach(function (input) {
          input.disabled = !box.checked;
          if (input.type === "date") input.required = box.checked;
        });
      };
      box.addEventListener("change", update);
      update();
    });
  }

  document.addEventListener("submit", function (event) {
    const form = event.target;
    if (form.hasAttribute("data-download")) {
      event.preventDefault();
      download(form);
      return;
    }
    if (!modalBody || !modalBody.contains(form)) return;
    if (form.method === "post") {
      event.preventDefault();
      postInModal(form);
    } else if (form.hasAttribute("data-dialog-step")) {
      event.preventDefault();
      const url = new URL(form.action, window.location.href);
      new FormData(form).forEach(function (value, name) {
        url.searchParams.append(name, value);
      });
      showInModal(url.href);
    }
  });

  // --- Download: the credits file is saved and the page says which file it was ----------------------

  const DOWNLOAD_NOTE = "flex-download-note:" + window.location.pathname;

  function noteFor(form) {
    const holder = form.closest("li, .toolbar, [data-dialog-content]") || document;
    return holder.querySelector("[data-download-status]");
  }

  function say(note, text, failed) {
    if (!note) return;
    note.textContent = text;
    note.classList.toggle("is-failed", failed);
  }

  async function download(form) {
    const note = noteFor(form);
    let response = null;
    try {
      response = await fetch(form.action, {
        method: "POST",
        body: new URLSearchParams(new FormData(form)),
        headers: { Accept: "application/jwt, text/html;q=0.9", "X-Flex-Dialog": "1" },
        credentials: "same-origin",
      });
    } catch (error) {
      say(note, "The download failed: the portal could not be reached.", true);
      return;
    }
    const type = response.headers.get("Content-Type") || "";
    if (!response.ok || !type.startsWith("application/jwt")) {
      let reason = String(response.status);
      if (type.startsWith("application/json")) {
        const answer = await response.json();
        if (answer.location) {
          window.location.assign(answer.location); // e.g. the session ended: sign in
          return;
        }
        if (answer.error) reason = answer.error.message;
      } else {
        const message = new DOMParser().parseFromString(await response.text(), "text/html").querySelector(".error-message");
        if (message) reason = message.textContent.trim();
      }
      say(note, "The download failed: " + reason, true);
      return;
    }
    const match = /filename="([^"]+)"/.exec(response.headers.get("Content-Disposition") || "");
    const name = match ? match[1] : "credits.jwt";
    const link = document.createElement("a");
    link.href = URL.createObjectURL(await response.blob());
    link.download = name;
    document.body.append(link);
    link.click();
    link.remove();
    window.setTimeout(function () { URL.revokeObjectURL(link.href); }, 10000);
    const text = "Downloaded " + name + ". Copy it to the HOME server and upload it on HOME's FileLicenses page.";
    // the page would otherwise say "Not downloaded yet" beside this note until it reloads with the ticks
    document.querySelectorAll("[data-not-downloaded]").forEach(function (notice) { notice.remove(); });
    say(note, text, false);
    // the details page reloads itself to show the Downloaded tick: keep the note for that next view
    if (!(modal && modal.open)) window.sessionStorage.setItem(DOWNLOAD_NOTE, text);
  }

  function restoreDownloadNote() {
    const text = window.sessionStorage.getItem(DOWNLOAD_NOTE);
    if (!text) return;
    window.sessionStorage.removeItem(DOWNLOAD_NOTE);
    const note = document.querySelector(".toolbar [data-download-status]");
    if (note) note.textContent = text;
  }

  // --- dialogs: a page's [data-dialog-content] shown in the <dialog>; without script it is a page ----

  async function showInModal(href) {
    let content = null;
    let flash = null;
    try {
      const response = await fetch(href, { headers: { Accept: "text/html" }, credentials: "same-origin" });
      if (response.ok && !response.redirected) {
        const doc = new DOMParser().parseFromString(await response.text(), "text/html");
        content = doc.querySelector("[data-dialog-content]");
        flash = doc.getElementById("flash");
      }
    } catch (error) {
      content = null;
    }
    if (!content) {
      window.location.assign(href); // errors, sign-in and anything unexpected show as a normal page
      return;
    }
    display(content, flash);
  }

  // A form inside a dialog: a refusal comes back as the same dialog with the problem and what was typed;
  // success answers {"location"}: back to the same dialog page means its next step, anywhere else a page.
  async function postInModal(form) {
    let response = null;
    const buttons = form.querySelectorAll("button[type=submit]");
    buttons.forEach(function (button) { button.disabled = true; });
    try {
      response = await fetch(form.action, {
        method: "POST",
        body: new URLSearchParams(new FormData(form)),
        headers: { Accept: "text/html", "X-Flex-Dialog": "1" },
        credentials: "same-origin",
      });
    } catch (error) {
      form.submit(); // the network failed before an answer: post it the plain way
      return;
    }
    const type = response.headers.get("Content-Type") || "";
    if (type.startsWith("application/json")) {
      const target = new URL((await response.json()).location, window.location.href);
      if (target.pathname === new URL(form.action, window.location.href).pathname) showInModal(target.href);
      else window.location.assign(target.href);
      return;
    }
    const doc = new DOMParser().parseFromString(await response.text(), "text/html");
    const content = doc.querySelector("[data-dialog-content]") || doc.querySelector(".error-card");
    if (!content) {
      window.location.assign(window.location.href);
      return;
    }
    display(content, doc.getElementById("flash"));
  }

  function display(content, flash) {
    modalBody.replaceChildren(document.importNode(content, true));
    const heading = modalBody.querySelector("h1, h2");
    if (flash) {
      const old = document.getElementById("flash");
      if (old) old.remove();
      const copy = document.importNode(flash, true);
      if (heading) heading.after(copy); // below the heading, clear of the close button
      else modalBody.prepend(copy);
    }
    if (heading) {
      heading.id = heading.id || "modal-title";
      modal.setAttribute("aria-labelledby", heading.id);
    }
    enhance(modalBody);
    if (!modal.open) modal.showModal();
    if (flash && heading && !modalBody.querySelector("[data-problem]")) {
      heading.tabIndex = -1; // a next step starts at its heading, not at a field further down
      heading.focus();
      return;
    }
    const first = modalBody.querySelector(
      "input:not([type=hidden]):not([disabled]):not([type=radio]), input[type=radio]:checked, input[type=radio]:not([disabled]), textarea:not([disabled]), select:not([disabled])"
    ) || modalBody.querySelector("button:not([disabled]), a[href]");
    if (first) first.focus();
  }

  if (modal) {
    document.addEventListener("click", function (event) {
      const link = event.target.closest("a[data-dialog]");
      if (link && event.button === 0 && !event.ctrlKey && !event.metaKey && !event.shiftKey && !event.altKey) {
        event.preventDefault();
        opener = link;
        showInModal(link.href);
        return;
      }
      if (!modal.contains(event.target)) return;
      const nav = event.target.closest("a[data-dialog-nav]");
      if (nav) {
        event.preventDefault();
        showInModal(nav.href);
        return;
      }
      if (event.target.closest("[data-close], [data-modal-close]")) {
        event.preventDefault();
        modal.close();
        return;
      }
      if (event.target === modal) modal.close(); // a click on the backdrop
    });
    modal.addEventListener("close", function () {
      modalBody.replaceChildren();
      if (opener) opener.focus();
      opener = null;
    });
  }

  // --- account menu: Escape or a click elsewhere closes it ---------------------------------------

  document.querySelectorAll("details[data-menu]").forEach(function (menu) {
    menu.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && menu.open) {
        menu.open = false;
        menu.querySelector("summary").focus();
      }
    });
    document.addEventListener("click", function (event) {
      if (menu.open && !menu.contains(event.target)) menu.open = false;
    });
  });

  // --- live online status (the words match macros.html) --------------------------------------------------------------------------

  const ONLINE_TITLE = "Linked to the licensing cloud right now: credits arrive at once";
  const OFFLINE_TITLE = "No live link to the licensing cloud right now: credits reach it by file";

  function setBadge(badge, online) {
    if (!badge) return;
    badge.title = online ? ONLINE_TITLE : OFFLINE_TITLE;
    badge.classList.toggle("badge-online", online);
    badge.classList.toggle("badge-offline", !online);
    const text = badge.querySelector("[data-status-text]");
    if (text) text.textContent = online ? "Online" : "Offline";
  }

  async function poll(url) {
    try {
      const response = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
      return response.ok ? await response.json() : null;
    } catch (error) {
      return null;
    }
  }

  function every(seconds, task) {
    window.setInterval(function () {
      if (!document.hidden) task();
    }, seconds * 1000);
  }

  const live = document.querySelector("[data-live-status]");
  if (live) {
    let version = live.dataset.version;
    every(2, async function () {
      const data = await poll(live.dataset.presenceUrl);
      if (!data) return;
      setBadge(live.querySelector(".badge"), data.online);
      const files = document.querySelector("[data-file-toolbar]");
      if (files) files.classList.toggle("is-online", data.online);
      const seen = document.querySelector("[data-last-seen]");
      if (seen) seen.textContent = data.last_seen_text || "never";
      if (data.version !== version) {
        version = data.version;
        // the credits changed (a download, a receipt, an expiry): show them, unless a dialog is in use
        if (!(modal && modal.open)) window.location.reload();
      }
    });
  }

  const table = document.querySelector("[data-systems-presence-url]");
  if (table) {
    every(2, async function () {
      const data = await poll(table.dataset.systemsPresenceUrl);
      if (!data || !data.systems) return;
      Object.entries(data.systems).forEach(function ([id, state]) {
        setBadge(table.querySelector('[data-status-for="' + CSS.escape(id) + '"]'), state.online);
        const seen = table.querySelector('[data-last-seen-for="' + CSS.escape(id) + '"]');
        if (seen && state.last_seen_short) seen.textContent = state.last_seen_short;
      });
    });
  }

  enhance(document);
  restoreDownloadNote();
})();
