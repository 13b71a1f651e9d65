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
