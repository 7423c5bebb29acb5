// Small progressive enhancements; every page works without this file.
(function () {
  "use strict";

  // A second click on a form that is already on its way would send it twice: the server
  // recognises that (one-time token), and this keeps people from trying.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || (form.method || "").toLowerCase() !== "post") {
      return;
    }
    if (form.dataset.submitting === "true") {
      event.preventDefault();
      return;
    }
    form.dataset.submitting = "true";
    form.setAttribute("aria-busy", "true");
    // Disable after this tick so the clicked button's own name/value is still sent.
    window.setTimeout(function () {
      form.querySelectorAll("button[type=submit], input[type=submit]").forEach(function (button) {
        button.disabled = true;
      });
    }, 0);
  });

  // Coming back with the browser's Back button restores the page as it was: re-enable it.
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("form[data-submitting]").forEach(function (form) {
      delete form.dataset.submitting;
      form.removeAttribute("aria-busy");
      form.querySelectorAll("button[type=submit], input[type=submit]").forEach(function (button) {
        button.disabled = false;
      });
    });
  });

  // Say how many files are chosen and warn early when there are more than the form accepts.
  document.querySelectorAll("input[type=file][multiple]").forEach(function (input) {
    var note = document.createElement("p");
    note.className = "help file-count";
    note.setAttribute("aria-live", "polite");
    input.insertAdjacentElement("afterend", note);
    input.addEventListener("change", function () {
      var count = input.files ? input.files.length : 0;
      var limit = parseInt(input.dataset.maxFiles || "3", 10);
      note.textContent = count === 0 ? "" : count + (count === 1 ? " file chosen." : " files chosen.");
      if (count > limit) {
        note.textContent += " Only " + limit + " files can be attached at a time.";
        note.classList.add("help-warning");
      } else {
        note.classList.remove("help-warning");
      }
    });
  });
})();
