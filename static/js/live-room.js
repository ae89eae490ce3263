// Refreshes the live room's "now" panel; served as a file so the portal's CSP needs no inline script.
(function () {
  var box = document.getElementById("live-now");
  if (!box || !window.fetch) { return; }
  var every = parseInt(box.dataset.every, 10) * 1000;
  function refresh() {
    fetch(box.dataset.src, {credentials: "same-origin", headers: {"X-Requested-With": "fetch"}})
      .then(function (response) { if (!response.ok) { throw new Error(response.status); } return response.text(); })
      .then(function (html) { box.innerHTML = html; box.dataset.refreshed = String(Date.now()); })
      .catch(function () { var stale = box.querySelector("[data-stale]"); if (stale) { stale.hidden = false; } })
      .finally(function () { window.setTimeout(refresh, every); });
  }
  window.setTimeout(refresh, every);
})();
