// Small progressive enhancements; every page works without this file.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  // "Select all" box of the alert queue.
  for (const all of document.querySelectorAll("input[data-select-all]")) {
    const boxes = () => document.querySelectorAll(`input[name="${all.dataset.selectAll}"]`);
    all.addEventListener("change", () => { for (const b of boxes()) b.checked = all.checked; update(); });
  }
  // Bulk buttons stay disabled until something is selected.
  const update = () => {
    for (const btn of document.querySelectorAll("button[data-needs-selection]")) {
      const name = btn.dataset.needsSelection;
      const n = document.querySelectorAll(`input[name="${name}"]:checked`).length;
      btn.disabled = n < Number(btn.dataset.min || 1);
    }
  };
  document.addEventListener("change", (e) => { if (e.target.matches("input[type=checkbox]")) update(); });
  update();
  // Ask before actions that cannot be undone.
  for (const form of document.querySelectorAll("form[data-confirm]")) {
    form.addEventListener("submit", (e) => { if (!window.confirm(form.dataset.confirm)) e.preventDefault(); });
  }
});
