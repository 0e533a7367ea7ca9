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
    document.querySelectorAll(".r.hl, .seg.current-ev").forEach(function (el) {
      el.classList.remove("hl", "current-ev");
    });
  }

  // scroll ``el`` into the middle of its scrolling ``box`` only (never the window)
  function scrollWithin(el, box) {
    if (!box) return;
    var top = el.getBoundingClientRect().top - box.getBoundingClientRect().top + box.scrollTop;
    box.scrollTop = Math.max(0, top - box.clientHeight / 2);
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
    if (first) scrollWithin(first, document.querySelector(".transcript"));
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
      if (row && window.mrtSelectRow) window.mrtSelectRow(row, { quiet: true });
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
  function setExpanded(input, list) {
    input.setAttribute("aria-expanded", list.children.length ? "true" : "false");
    if (!list.children.length) input.removeAttribute("aria-activedescendant");
  }
  // a code that takes a 7th character comes as one hit (its stem); choosing it lists the characters
  function seventhChoices(hit) {
    return hit.seventh.map(function (c) {
      return { code: hit.stem + c[0], description: c[0] + " \u2014 " + c[1], billable: true, system: hit.system };
    });
  }
  function choose(li, list, input) {
    var hit = li.hit;
    if (hit && hit.seventh && hit.seventh.length) {
      render(list, input, seventhChoices(hit));
      var first = list.firstElementChild;
      if (first) {
        first.classList.add("active");
        first.setAttribute("aria-selected", "true");
        input.setAttribute("aria-activedescendant", first.id);
      }
      return;
    }
    input.value = li.dataset.code;
    list.textContent = "";
    setExpanded(input, list);
  }
  function render(list, input, results) {
    list.textContent = "";
    results.forEach(function (hit, i) {
      var li = document.createElement("li");
      var picks = hit.seventh && hit.seventh.length;
      li.setAttribute("role", "option");
      li.id = list.id + "-" + i;
      li.dataset.code = picks ? hit.stem : hit.code;
      li.hit = hit;
      var code = document.createElement("strong");
      code.textContent = picks ? hit.stem + "_" : hit.code;
      var desc = document.createElement("span");
      desc.textContent = " " + hit.description + (picks ? " (pick the 7th character)" : hit.billable ? "" : " (needs more characters)");
      li.appendChild(code);
      li.appendChild(desc);
      li.addEventListener("mousedown", function (e) {
        e.preventDefault();
        choose(li, list, input);
      });
      list.appendChild(li);
    });
    setExpanded(input, list);
  }
  document.addEventListener("keydown", function (ev) {
    var input = ev.target;
    if (!input.matches || !input.matches("[data-typeahead]")) return;
    var list = input.parentElement.querySelector(".ta-list");
    var items = Array.prototype.slice.call(list.children);
    if (!items.length) return;
    var at = items.findIndex(function (li) { return li.classList.contains("active"); });
    if (ev.key === "ArrowDown" || ev.key === "ArrowUp") {
      ev.preventDefault();
      ev.stopPropagation();
      if (at >= 0) items[at].classList.remove("active");
      at = ev.key === "ArrowDown" ? Math.min(items.length - 1, at + 1) : Math.max(0, at - 1);
      items[at].classList.add("active");
      items[at].setAttribute("aria-selected", "true");
      input.setAttribute("aria-activedescendant", items[at].id);
      items[at].scrollIntoView({ block: "nearest" });
    } else if (ev.key === "Enter" && at >= 0) {
      ev.preventDefault();
      ev.stopPropagation();
      choose(items[at], list, input);
    } else if (ev.key === "Escape") {
      ev.stopPropagation();
      list.textContent = "";
      setExpanded(input, list);
    }
  }, true);
  document.addEventListener("input", function (ev) {
    var input = ev.target;
    if (!input.matches || !input.matches("[data-typeahead]")) return;
    var list = input.parentElement.querySelector(".ta-list");
    clearTimeout(timer);
    var q = input.value.trim();
    if (q.length < 2) { list.textContent = ""; setExpanded(input, list); return; }
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
      setTimeout(function () { list.textContent = ""; setExpanded(ev.target, list); }, 200);
    }
  });
})();
