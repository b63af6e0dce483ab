// cartcohort web app: sortable tables and the progress poll. No dependencies, no inline script.
"use strict";

function cellValue(row, index, numeric) {
  const text = row.cells[index].textContent.trim();
  if (text === "") return null;
  if (!numeric) return text.toLowerCase();
  const n = parseFloat(text);
  return Number.isNaN(n) ? null : n;
}

function sortBy(table, th) {
  const headers = Array.from(th.parentElement.children);
  const index = headers.indexOf(th);
  const numeric = th.querySelector("button").hasAttribute("data-numeric");
  const ascending = th.getAttribute("aria-sort") !== "ascending";
  headers.forEach((h) => h.hasAttribute("aria-sort") && h.setAttribute("aria-sort", "none"));
  th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
  const body = table.tBodies[0];
  const rows = Array.from(body.rows);
  rows.sort((a, b) => {
    const x = cellValue(a, index, numeric);
    const y = cellValue(b, index, numeric);
    // Empty cells (a problem with a whole file or column) stay at the end either way.
    if (x === null || y === null) return (x === null) - (y === null);
    if (x < y) return ascending ? -1 : 1;
    if (x > y) return ascending ? 1 : -1;
    return 0;
  });
  rows.forEach((r) => body.appendChild(r));
}

function initSorting() {
  document.querySelectorAll("table[data-sortable] th button").forEach((button) => {
    button.addEventListener("click", () => sortBy(button.closest("table"), button.closest("th")));
  });
}

// Every request the page makes carries the page's CSRF token (the server checks it on
// anything but a page view).
function csrfHeaders(extra) {
  const meta = document.querySelector('meta[name="csrf-token"]');
  return Object.assign({ "X-CSRF-Token": meta ? meta.content : "" }, extra);
}

function initProgress() {
  const box = document.getElementById("progress");
  if (!box) return;
  const url = box.dataset.statusUrl;
  const phase = box.querySelector(".phase");
  const bar = document.getElementById("progress-bar");
  async function poll() {
    try {
      const response = await fetch(url, { headers: csrfHeaders({ Accept: "application/json" }) });
      const status = await response.json();
      if (status.state === "done" || status.state === "failed" || status.state === "missing") {
        window.location.reload();
        return;
      }
      phase.textContent = status.phase + "…";
      if (status.total > 0) {
        bar.max = status.total;
        bar.value = status.index;
      } else {
        bar.removeAttribute("value");
      }
    } catch (err) {
      phase.textContent = "Waiting for the server…";
    }
    window.setTimeout(poll, 600);
  }
  window.setTimeout(poll, 300);
}

document.addEventListener("DOMContentLoaded", () => {
  initSorting();
  initProgress();
});

// Mapping page: the search box and the "unrecognised only" box filter the column list as
// one types. Without JavaScript the same form is sent and the server filters the list.
function initColumnFilter() {
  const form = document.querySelector("form[data-column-filter]");
  const table = document.getElementById("column-list");
  if (!form || !table) return;
  const text = form.querySelector("[data-filter-text]");
  const only = form.querySelector("[data-filter-unrecognised]");
  const count = form.querySelector("[data-filter-count]");
  const submit = form.querySelector("[data-filter-submit]");
  if (submit) submit.hidden = true;
  const rows = Array.from(table.tBodies[0].rows);
  function apply() {
    const query = text.value.trim().toLowerCase();
    let shown = 0;
    rows.forEach((row) => {
      const status = row.dataset.status;
      const wanted = !only.checked || status === "unrecognised" || status === "identifier";
      const visible = wanted && (!query || row.dataset.search.includes(query));
      row.hidden = !visible;
      if (visible) shown += 1;
    });
    count.textContent = shown === rows.length ? "" : `${shown} of ${rows.length} headers shown.`;
  }
  text.addEventListener("input", apply);
  only.addEventListener("change", apply);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    apply();
  });
}

document.addEventListener("DOMContentLoaded", initColumnFilter);
