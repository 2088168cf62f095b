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
