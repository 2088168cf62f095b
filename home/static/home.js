// Copy buttons: <button data-copy-target="ID"> copies the text of the field with that id.
// Uses the Clipboard API where the page is allowed to, and falls back to selecting the text
// and execCommand("copy") (e.g. on plain http from another machine).
(function () {
  "use strict";

  function statusFor(id) {
    return document.querySelector('[data-copy-status-for="' + id + '"]');
  }

  function say(id, text) {
    var status = statusFor(id);
    if (status) {
      status.textContent = text;
    }
  }

  function fallbackCopy(field) {
    field.focus();
    field.select();
    try {
      return document.execCommand("copy");
    } catch (error) {
      return false;
    }
  }

  function copy(button) {
    var id = button.getAttribute("data-copy-target");
    var field = document.getElementById(id);
    if (!field || !field.value) {
      say(id, "Nothing to copy yet.");
      return;
    }
    var done = function () { say(id, "Copied to the clipboard."); };
    var manual = function () {
      if (fallbackCopy(field)) {
        done();
      } else {
        say(id, "Copying is blocked here: the text is selected, press Ctrl+C (or ⌘C) to copy it.");
      }
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(field.value).then(done, manual);
    } else {
      manual();
    }
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy-target]");
    if (button) {
      event.preventDefault();
      copy(button);
    }
  });
})();

// Live credits: a page with [data-live-credits] asks HOME (only HOME itself) every few seconds
// for its credits and reloads when they changed, e.g. after an online assign or revoke in the portal.
(function () {
  "use strict";

  var view = document.querySelector("[data-live-credits]");
  if (!view || !window.fetch) {
    return;
  }
  var url = view.getAttribute("data-live-credits");
  var every = 1000 * (Number(view.getAttribute("data-live-seconds")) || 4);

  function changed(data) {
    return (
      Number(view.getAttribute("data-seq")) !== data.seq ||
      Number(view.getAttribute("data-total")) !== data.total ||
      Number(view.getAttribute("data-in-use")) !== data.in_use ||
      view.getAttribute("data-state") !== data.status.state
    );
  }

  function check() {
    if (document.hidden) {
      window.setTimeout(check, every);
      return;
    }
    fetch(url, { headers: { Accept: "application/json" }, cache: "no-store", credentials: "same-origin" })
      .then(function (response) {
        return response.ok ? response.json() : null;
      })
      .then(function (data) {
        if (data && changed(data)) {
          window.location.reload();
        } else {
          window.setTimeout(check, every);
        }
      })
      .catch(function () {
        window.setTimeout(check, every);  // HOME restarting: try again later
      });
  }

  window.setTimeout(check, every);
})();
