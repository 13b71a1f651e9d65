/* The site's own script, a file because the Content-Security-Policy allows no inline script or
   on...= handler. Everything here is an extra: each page works without it. */
"use strict";

// <select data-submit-on-change>: choosing an option submits its form (the form also has a
// <noscript> button).
document.addEventListener("change", (event) => {
  const field = event.target;
  if (field instanceof HTMLSelectElement && field.hasAttribute("data-submit-on-change") && field.form) {
    field.form.submit();
  }
});

// The menu button of narrow screens (base.html): shown only when this script runs, it folds the
// navigation away and opens it again. CSS folds it only while `.topbar.has-menu` is set here.
document.addEventListener("DOMContentLoaded", () => {
  const button = document.querySelector(".nav-toggle");
  const topbar = button && button.closest(".topbar");
  if (!topbar) {
    return;
  }
  button.hidden = false;
  topbar.classList.add("has-menu");
  button.addEventListener("click", () => {
    const open = topbar.classList.toggle("menu-open");
    button.setAttribute("aria-expanded", String(open));
  });
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && topbar.classList.contains("menu-open")) {
      topbar.classList.remove("menu-open");
      button.setAttribute("aria-expanded", "false");
      button.focus();
    }
  });
});

/* bulk select */
// A "select all" checkbox (data-select-all="<form id>", hidden without this script) ticks the row
// checkboxes of that bulk form in its own table: the rows on this page, nothing beyond.
document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("input[data-select-all]").forEach((box) => {
    box.hidden = false;
  });
});
document.addEventListener("htmx:afterSwap", () => {
  document.querySelectorAll("input[data-select-all]").forEach((box) => {
    box.hidden = false;
  });
});
document.addEventListener("change", (event) => {
  const box = event.target;
  if (!(box instanceof HTMLInputElement) || !box.hasAttribute("data-select-all")) {
    return;
  }
  const scope = box.closest("table") || document;
  const formId = box.getAttribute("data-select-all");
  scope.querySelectorAll(`input[type="checkbox"][name="ids"][form="${CSS.escape(formId)}"]`).forEach((row) => {
    row.checked = box.checked;
  });
});
