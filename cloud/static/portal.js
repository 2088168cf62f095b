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
        button.disabled = input.value.trim().toLowerCase() !== input.dataset.confirmWord;
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
    if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
      return;
    }
    if (modalBody && modalBody.contains(form) && form.hasAttribute("data-dialog-post")) {
      event.preventDefault();
      postInModal(form);
      return;
    }
    if (modalBody && modalBody.contains(form) && form.hasAttribute("data-dialog-step")) {
      event.preventDefault();
      const url = new URL(form.action, window.location.href);
      new FormData(form).forEach(function (value, name) {
        url.searchParams.append(name, value);
      });
      showInModal(url.href);
    }
  });

  // --- dialogs: a page's [data-dialog-content] shown in the <dialog>; without script it is a page ----

  async function showInModal(href) {
    let content = null;
    try {
      const response = await fetch(href, { headers: { Accept: "text/html" }, credentials: "same-origin" });
      if (response.ok && !response.redirected) {
        const doc = new DOMParser().parseFromString(await response.text(), "text/html");
        content = doc.querySelector("[data-dialog-content]");
      }
    } catch (error) {
      content = null;
    }
    if (!content) {
      window.location.assign(href); // errors, sign-in and anything unexpected show as a normal page
      return;
    }
    display(content, null);
  }

  // A POST whose answer is the next step of the same dialog (Revoke, then its four steps).
  async function postInModal(form) {
    let response = null;
    try {
      response = await fetch(form.action, {
        method: "POST",
        body: new URLSearchParams(new FormData(form)),
        headers: { Accept: "text/html" },
        credentials: "same-origin",
      });
    } catch (error) {
      form.submit(); // the network failed before an answer: post it the plain way
      return;
    }
    const doc = new DOMParser().parseFromString(await response.text(), "text/html");
    const content = response.ok ? doc.querySelector("[data-dialog-content]") : null;
    if (!content) {
      window.location.assign(response.url);
      return;
    }
    display(content, doc.getElementById("flash"));
  }

  function display(content, flash) {
    modalBody.replaceChildren(document.importNode(content, true));
    if (flash) {
      const old = document.getElementById("flash");
      if (old) old.remove();
      modalBody.prepend(document.importNode(flash, true));
    }
    const heading = modalBody.querySelector("h1, h2");
    if (heading) {
      heading.id = heading.id || "modal-title";
      modal.setAttribute("aria-labelledby", heading.id);
    }
    enhance(modalBody);
    if (!modal.open) modal.showModal();
    if (flash && heading) {
      heading.tabIndex = -1; // a next step starts at its heading, not at a field further down
      heading.focus();
      return;
    }
    const first = modalBody.querySelector(
      "input:not([type=hidden]):not([disabled]), textarea:not([disabled]), select:not([disabled])"
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

  // --- live online status --------------------------------------------------------------------------

  function setBadge(badge, online) {
    if (!badge) return;
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
})();
