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
