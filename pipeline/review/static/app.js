// Review queue: seek the media from a segment or a code's evidence, highlight evidence,
// and type-ahead code search. Text from the server is only ever set with textContent.
(function () {
  "use strict";

  function player() { return document.getElementById("player"); }

  function seek(seconds, play) {
    var p = player();
    if (!p || isNaN(seconds)) return;
    var go = function () {
      p.currentTime = seconds;
      if (play) { var r = p.play(); if (r && r.catch) r.catch(function () {}); }
    };
    if (p.readyState >= 1) go(); else p.addEventListener("loadedmetadata", go, { once: true });
  }

  function clearHighlights() {
    document.querySelectorAll(".r.hl, .seg.current-ev, tr.code.selected").forEach(function (el) {
      el.classList.remove("hl", "current-ev", "selected");
    });
  }

  function highlightSpan(start, end) {
    var first = null;
    document.querySelectorAll(".transcript .r").forEach(function (run) {
      var s = +run.dataset.s, e = +run.dataset.e;
      if (s < end && e > start) {
        run.classList.add("hl");
        if (!first) first = run;
      }
    });
    if (first) first.scrollIntoView({ block: "center", behavior: "smooth" });
    return first;
  }

  document.addEventListener("click", function (ev) {
    var ts = ev.target.closest(".seg .ts");
    if (ts) {
      var seg = ts.closest(".seg");
      document.querySelectorAll(".seg.playing").forEach(function (x) { x.classList.remove("playing"); });
      seg.classList.add("playing");
      seek(parseFloat(seg.dataset.start), true);
      return;
    }
    var link = ev.target.closest("a.ev");
    if (link) {
      ev.preventDefault();
      clearHighlights();
      var row = link.closest("tr.code");
      if (row) row.classList.add("selected");
      var first = highlightSpan(+link.dataset.s, +link.dataset.e);
      var t = parseFloat(link.dataset.t);
      if (isNaN(t) && first) t = parseFloat(first.closest(".seg").dataset.start);
      seek(t, false);
    }
  });

  // follow playback in the transcript
  document.addEventListener("DOMContentLoaded", function () {
    var p = player();
    if (!p) return;
    var segs = Array.prototype.slice.call(document.querySelectorAll(".seg"));
    p.addEventListener("timeupdate", function () {
      var now = p.currentTime;
      segs.forEach(function (s) {
        s.classList.toggle("playing", now >= +s.dataset.start && now < +s.dataset.end);
      });
    });
  });

  // ------------------------------------------------------------------ type-ahead
  var timer = null;
  function systemFor(input) {
    if (input.dataset.system) return input.dataset.system;
    var sel = input.form && input.form.elements[input.dataset.systemFrom];
    return sel ? sel.value : "";
  }
  function render(list, input, results) {
    list.textContent = "";
    results.forEach(function (hit) {
      var li = document.createElement("li");
      li.setAttribute("role", "option");
      li.dataset.code = hit.code;
      var code = document.createElement("strong");
      code.textContent = hit.code;
      var desc = document.createElement("span");
      desc.textContent = " " + hit.description + (hit.billable ? "" : " (needs more characters)");
      li.appendChild(code);
      li.appendChild(desc);
      li.addEventListener("mousedown", function (e) {
        e.preventDefault();
        input.value = hit.code;
        list.textContent = "";
      });
      list.appendChild(li);
    });
  }
  document.addEventListener("input", function (ev) {
    var input = ev.target;
    if (!input.matches || !input.matches("[data-typeahead]")) return;
    var list = input.parentElement.querySelector(".ta-list");
    clearTimeout(timer);
    var q = input.value.trim();
    if (q.length < 2) { list.textContent = ""; return; }
    timer = setTimeout(function () {
      var url = "/api/codes/search?q=" + encodeURIComponent(q) + "&system=" + encodeURIComponent(systemFor(input));
      fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : { results: [] }; })
        .then(function (data) { if (input.value.trim() === q) render(list, input, data.results || []); })
        .catch(function () {});
    }, 150);
  });
  document.addEventListener("focusout", function (ev) {
    if (ev.target.matches && ev.target.matches("[data-typeahead]")) {
      var list = ev.target.parentElement.querySelector(".ta-list");
      setTimeout(function () { list.textContent = ""; }, 200);
    }
  });
})();
