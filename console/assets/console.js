// bedrockkit console: opens the step a link points at, and keeps pages
// up to date through server-sent events. No framework, no build step.
(function () {
  "use strict";

  function openTarget() {
    if (!location.hash) return;
    var el = document.getElementById(decodeURIComponent(location.hash.slice(1)));
    if (!el) return;
    for (var p = el; p; p = p.parentElement) {
      if (p.tagName === "DETAILS") p.open = true;
    }
    el.scrollIntoView({ block: "start" });
  }

  function openDetails() {
    var ids = [];
    document.querySelectorAll("main details[id]").forEach(function (d) {
      if (d.open) ids.push(d.id);
    });
    return ids;
  }

  var refreshing = false, again = false;

  function refresh() {
    if (refreshing) { again = true; return; }
    var active = document.activeElement;
    if (active && (active.tagName === "INPUT" || active.tagName === "TEXTAREA" || active.tagName === "SELECT")) return;
    refreshing = true;
    fetch(location.href, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        var fresh = doc.getElementById("main");
        var main = document.getElementById("main");
        if (!fresh || !main) return;
        var open = openDetails();
        var closed = [];
        document.querySelectorAll("main details[id]").forEach(function (d) {
          if (!d.open) closed.push(d.id);
        });
        var y = window.scrollY;
        main.replaceWith(document.importNode(fresh, true));
        open.forEach(function (id) { var d = document.getElementById(id); if (d) d.open = true; });
        closed.forEach(function (id) { var d = document.getElementById(id); if (d) d.open = false; });
        window.scrollTo(0, y);
        document.body.dataset.version = doc.body.dataset.version || "";
      })
      .catch(function () {})
      .finally(function () {
        refreshing = false;
        if (again) { again = false; refresh(); }
      });
  }

  function live() {
    var state = document.getElementById("live-state");
    if (document.body.dataset.live !== "1" || !window.EventSource) return;
    var es = new EventSource(document.body.dataset.base + "/live");
    es.addEventListener("open", function () { if (state) state.classList.add("on"); });
    es.addEventListener("error", function () { if (state) state.classList.remove("on"); });
    es.addEventListener("hello", function (e) {
      if (e.data !== document.body.dataset.version) refresh();
    });
    es.addEventListener("change", function (e) {
      if (e.data !== document.body.dataset.version) refresh();
    });
    window.addEventListener("pagehide", function () { es.close(); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    openTarget();
    live();
  });
  window.addEventListener("hashchange", openTarget);
})();
