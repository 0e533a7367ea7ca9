// The record screen, keyboard first and in place. Every form on it still posts as an ordinary form without
// this script; with it, a post goes out with Accept: application/json and X-CSRF-Token, and on success the
// head and work pane are fetched again (/records/ID/work) and swapped in, keeping scroll, the open tab and
// focus. Shortcuts are listed in the help dialog (?). Server text is only ever set with textContent.
(function () {
  "use strict";

  var root = document.querySelector(".record[data-record]");
  if (!root) return;
  document.documentElement.classList.add("js");
  var rid = root.dataset.record, csrf = root.dataset.csrf;
  var activeTab = sessionStorage.getItem("mrt-tab") || "claim";
  var busy = false;

  function $(sel, el) { return (el || document).querySelector(sel); }
  function $$(sel, el) { return Array.prototype.slice.call((el || document).querySelectorAll(sel)); }
  function rows() { return $$("#work tr.code"); }
  function selected() { return $("#work tr.code.selected"); }

  // ---------------------------------------------------------------- messages
  var toastTimer = null;
  function toast(text, isError, choices) {
    var t = $(".toast", root);
    t.textContent = "";
    t.classList.toggle("err", !!isError);
    t.setAttribute("role", isError ? "alert" : "status");
    var span = document.createElement("span");
    span.textContent = text;
    t.appendChild(span);
    (choices || []).slice(0, 12).forEach(function (c) {
      var b = document.createElement("button");
      b.type = "button";
      b.className = "choice";
      b.dataset.code = c.code;
      b.textContent = c.code;
      b.title = c.description;
      t.appendChild(b);
    });
    t.classList.add("show");
    clearTimeout(toastTimer);
    if (!isError) toastTimer = setTimeout(function () { t.classList.remove("show"); }, 3500);
  }
  root.addEventListener("click", function (ev) {
    var b = ev.target.closest(".toast .choice");
    if (!b) return;
    var input = $("#work [data-testid=add-code]");
    if (input) { input.value = b.dataset.code; input.focus(); }
    $(".toast", root).classList.remove("show");
  });

  // ---------------------------------------------------------------- tabs
  function showTab(name, focus) {
    var tabs = $$("#work [role=tab]");
    if (!tabs.length) return;
    if (!tabs.some(function (t) { return t.dataset.tab === name; })) name = tabs[0].dataset.tab;
    activeTab = name;
    sessionStorage.setItem("mrt-tab", name);
    tabs.forEach(function (t) {
      var on = t.dataset.tab === name;
      t.setAttribute("aria-selected", on ? "true" : "false");
      t.tabIndex = on ? 0 : -1;
      if (on && focus) t.focus();
    });
    $$("#work [role=tabpanel]").forEach(function (p) { p.hidden = p.dataset.panel !== name; });
  }
  root.addEventListener("click", function (ev) {
    var t = ev.target.closest("#work [role=tab]");
    if (t) showTab(t.dataset.tab, true);
  });
  root.addEventListener("keydown", function (ev) {
    var t = ev.target.closest && ev.target.closest("#work [role=tab]");
    if (!t || (ev.key !== "ArrowRight" && ev.key !== "ArrowLeft")) return;
    var tabs = $$("#work [role=tab]"), i = tabs.indexOf(t);
    var next = tabs[(i + (ev.key === "ArrowRight" ? 1 : tabs.length - 1)) % tabs.length];
    ev.preventDefault();
    showTab(next.dataset.tab, true);
  });

  // ---------------------------------------------------------------- selection
  function selectRow(row, opts) {
    opts = opts || {};
    if (!row) return;
    rows().forEach(function (r) { r.classList.remove("selected"); r.removeAttribute("aria-current"); r.tabIndex = -1; });
    row.classList.add("selected");
    row.setAttribute("aria-current", "true");
    row.tabIndex = 0;
    if (!opts.noFocus) row.focus({ preventScroll: true });
    var box = $("#work .work-scroll");
    if (box) {
      var r = row.getBoundingClientRect(), b = box.getBoundingClientRect();
      if (r.top < b.top) box.scrollTop -= b.top - r.top + 8;
      else if (r.bottom > b.bottom) box.scrollTop += r.bottom - b.bottom + 8;
    }
    if (!opts.quiet && row.dataset.evS) {  // show the code's evidence in the transcript
      $$(".transcript .r.hl").forEach(function (x) { x.classList.remove("hl"); });
      var first = null;
      $$(".transcript .r").forEach(function (run) {
        if (+run.dataset.s < +row.dataset.evE && +run.dataset.e > +row.dataset.evS) { run.classList.add("hl"); first = first || run; }
      });
      var tr = $(".transcript");
      if (first && tr) tr.scrollTop = Math.max(0, first.offsetTop - tr.offsetTop - tr.clientHeight / 2);
      var p = document.getElementById("player"), t = parseFloat(row.dataset.evT);
      if (p && !isNaN(t) && p.paused && p.readyState >= 1) p.currentTime = t;
    }
  }
  window.mrtSelectRow = selectRow;

  function move(step) {
    var all = rows();
    if (!all.length) return;
    var i = all.indexOf(selected());
    selectRow(all[i < 0 ? 0 : Math.max(0, Math.min(all.length - 1, i + step))]);
  }

  root.addEventListener("click", function (ev) {
    var row = ev.target.closest("#work tr.code");
    if (row && !ev.target.closest("button, a, input, select, summary, form, label")) selectRow(row);
  });

  // ---------------------------------------------------------------- posting in place
  function describeFocus() {
    var el = document.activeElement;
    if (!el || el === document.body) return null;
    var row = el.closest && el.closest("tr.code");
    return { codeId: row ? row.dataset.codeId : null, testid: el.dataset ? el.dataset.testid : null, id: el.id || null, isRow: el.matches("tr.code") };
  }

  function restoreFocus(keep, advanceFrom) {
    if (advanceFrom) {
      var all = rows(), i = all.findIndex(function (r) { return r.dataset.codeId === advanceFrom; });
      var after = all.slice(i + 1), before = i >= 0 ? all.slice(0, i) : [];
      var target = after.find(function (r) { return r.dataset.status === "proposed"; })
        || before.find(function (r) { return r.dataset.status === "proposed"; })
        || all[i] || after[0] || all[0];
      if (target) { selectRow(target); return; }
    }
    var row = keep && keep.codeId ? $("#work tr.code[data-code-id='" + keep.codeId + "']") : null;
    if (row) selectRow(row, { noFocus: true, quiet: true });
    if (!keep) return;
    var el = null;
    if (keep.isRow) el = row;
    else if (keep.testid) el = row ? $("[data-testid='" + keep.testid + "']", row) : $("#work [data-testid='" + keep.testid + "'], #record-head [data-testid='" + keep.testid + "']");
    if (!el && keep.id) el = document.getElementById(keep.id);
    if (el && !el.disabled && el.offsetParent !== null) el.focus({ preventScroll: true });
    else if (row) row.focus({ preventScroll: true });
    else { var s = selected() || rows()[0]; if (s) selectRow(s, { quiet: true }); }
  }

  function refresh(keep, advanceFrom) {
    var box = $("#work .work-scroll"), top = box ? box.scrollTop : 0, winY = window.scrollY;
    return fetch("/records/" + rid + "/work", { headers: { Accept: "text/html" }, credentials: "same-origin" })
      .then(function (r) { if (!r.ok) throw new Error("could not reload the codes (" + r.status + ")"); return r.text(); })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        ["record-head", "work"].forEach(function (id) {
          var fresh = doc.querySelector("[data-swap='" + id + "']"), old = document.getElementById(id);
          if (fresh && old) old.replaceChildren.apply(old, Array.prototype.slice.call(fresh.childNodes));
        });
        showTab(activeTab);
        var nb = $("#work .work-scroll");
        if (nb) nb.scrollTop = top;
        window.scrollTo(0, winY);
        restoreFocus(keep, advanceFrom);
      });
  }
  window.mrtRefresh = refresh;

  function post(form, submitter, advance) {
    if (busy) return;
    busy = true;
    root.classList.add("busy");
    var keep = describeFocus();
    var row = form.closest("tr.code");
    var advanceFrom = advance && row ? row.dataset.codeId : null;
    var body = new URLSearchParams(new FormData(form, submitter || undefined));
    fetch(form.action, {
      method: "POST", body: body, credentials: "same-origin",
      headers: { Accept: "application/json", "X-CSRF-Token": csrf },
    })
      .then(function (r) { return r.json().catch(function () { return { ok: false, error: "the server answered " + r.status }; }); })
      .then(function (res) {
        if (!res.ok) {
          toast(res.error || "refused", true, res.choices);
          return refresh(keep);
        }
        if (Object.prototype.hasOwnProperty.call(res, "next")) {
          location.href = res.next ? "/records/" + res.next + "?msg=" + encodeURIComponent(res.message) : "/worklist?msg=" + encodeURIComponent(res.message);
          return;
        }
        if (form.dataset.go) { location.href = form.dataset.go + "?msg=" + encodeURIComponent(res.message); return; }
        if (form.hasAttribute("data-reload")) { location.reload(); return; }
        toast(res.message || "Done.");
        return refresh(keep, advanceFrom);
      })
      .catch(function (e) { toast(String(e.message || e), true); })
      .then(function () { busy = false; root.classList.remove("busy"); });
  }

  var advanceNext = false;
  root.addEventListener("submit", function (ev) {
    var form = ev.target;
    if ((form.getAttribute("method") || "get").toLowerCase() !== "post") return;
    if (form.hasAttribute("data-reload") || form.dataset.go) return;  // claim, reopen, release: a new page anyway
    ev.preventDefault();
    var adv = advanceNext;
    advanceNext = false;
    post(form, ev.submitter, adv);
  });

  // ---------------------------------------------------------------- shortcuts
  function act(row, key, advance) {
    var el = row && row.querySelector("[data-key='" + key + "']");
    if (!el) return false;
    if (el.tagName === "SUMMARY") {
      var det = el.parentElement;
      $$("#work details.act[open]").forEach(function (d) { if (d !== det) d.open = false; });
      det.open = true;
      var field = det.querySelector("select, input:not([type=hidden])");
      if (field) field.focus();
      return true;
    }
    if (el.disabled) return false;
    advanceNext = !!advance;
    el.form.requestSubmit(el);
    return true;
  }

  function closeForms() {
    var open = $$("#work details.act[open]");
    open.forEach(function (d) { d.open = false; });
    var s = selected();
    if (s) s.focus({ preventScroll: true });
    return open.length > 0;
  }

  document.addEventListener("keydown", function (ev) {
    if (ev.defaultPrevented || ev.ctrlKey || ev.metaKey || ev.altKey) return;
    var help = document.getElementById("help");
    if (help && help.open) return;  // the dialog closes itself on Esc
    var t = ev.target, tag = t.tagName;
    var typing = tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || t.isContentEditable;
    if (typing) {
      var rej = t.closest("form[data-reject]");
      if (rej && tag === "SELECT" && /^[1-9]$/.test(ev.key) && +ev.key <= t.options.length) {
        ev.preventDefault();
        t.selectedIndex = +ev.key - 1;
        advanceNext = true;
        rej.requestSubmit();
      } else if (rej && tag === "SELECT" && ev.key === "Enter") {
        ev.preventDefault();
        advanceNext = true;
        rej.requestSubmit();
      } else if (ev.key === "Escape") {
        if (closeForms()) ev.preventDefault();
        else t.blur();
      }
      return;
    }
    if (t.closest && t.closest("[role=tablist]") && (ev.key === "ArrowLeft" || ev.key === "ArrowRight")) return;
    var row = selected();
    var handled = true;
    switch (ev.key) {
      case "j": case "ArrowDown": move(1); break;
      case "k": case "ArrowUp": move(-1); break;
      case "a": handled = act(row, "a", true); break;
      case "r": handled = act(row, "r", true); break;
      case "e": handled = act(row, "e"); break;
      case "p": handled = act(row, "p"); break;
      case "u": handled = act(row, "u"); break;
      case "d": handled = act(row, "d"); break;
      case "z": handled = act(row, "z"); break;
      case " ": case "Enter":
        if (row && document.activeElement === row) { var m = $("details.more", row); if (m) m.open = !m.open; } else handled = false;
        break;
      case "n": var add = $("#work [data-testid=add-code]"); if (add) add.focus(); else handled = false; break;
      case "A": var ar = $("#work [data-key=A]"); handled = !!ar && !ar.disabled && (ar.form.requestSubmit(ar), true); break;
      case "F": var fn = $("#work [data-key=F]"); handled = !!fn && !fn.disabled && (fn.form.requestSubmit(fn), true); break;
      case "?": if (help) help.showModal(); break;
      case "Escape": handled = closeForms(); break;
      default: handled = false;
    }
    if (handled) ev.preventDefault();
  });

  document.addEventListener("click", function (ev) {
    if (ev.target.closest("[data-help-open]")) { var h = document.getElementById("help"); if (h) h.showModal(); }
  });

  // ---------------------------------------------------------------- text to code
  var t2c = document.getElementById("t2c");
  function runOf(node) { var el = node.nodeType === 1 ? node : node.parentElement; return el && el.closest(".transcript .r"); }
  function hideT2c() { if (t2c) t2c.hidden = true; }
  function offerCodes() {
    if (!t2c) return;
    var sel = window.getSelection();
    if (!sel || sel.isCollapsed || !sel.rangeCount) return;
    var range = sel.getRangeAt(0), a = runOf(range.startContainer), b = runOf(range.endContainer);
    if (!a || !b) return;
    var start = +a.dataset.s + (range.startContainer.nodeType === 3 ? range.startOffset : 0);
    var end = +b.dataset.s + (range.endContainer.nodeType === 3 ? range.endOffset : (+b.dataset.e - +b.dataset.s));
    var words = sel.toString().replace(/\s+/g, " ").trim();
    if (end <= start || !words) return;
    var form = $("[data-t2c-form]", t2c);
    form.elements.evidence_start.value = start;
    form.elements.evidence_end.value = end;
    form.elements.code.value = "";
    $("[data-t2c-words]", t2c).textContent = words.length > 80 ? words.slice(0, 80) + "…" : words;
    var list = $(".t2c-list", t2c);
    list.textContent = "";
    var r = range.getBoundingClientRect();
    t2c.style.left = Math.max(8, Math.min(window.innerWidth - 460, r.left)) + "px";
    t2c.style.top = Math.min(window.innerHeight - 260, r.bottom + 6) + "px";
    t2c.hidden = false;
    var q = words.slice(0, 100), system = form.elements.system.value;
    fetch("/api/codes/search?q=" + encodeURIComponent(q) + "&system=" + encodeURIComponent(system), { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (res) { return res.ok ? res.json() : { results: [] }; })
      .then(function (data) {
        list.textContent = "";
        t2cHits(list, (data.results || []).slice(0, 8));
        if (!list.children.length) {
          var none = document.createElement("li");
          none.className = "hint";
          none.textContent = "No code found for these words; type one.";
          list.appendChild(none);
        }
      })
      .catch(function () {});
  }
  // the offered codes; a code that takes a 7th character is one button, which lists the characters
  function t2cHits(list, hits) {
    list.textContent = "";
    hits.forEach(function (hit) {
      var li = document.createElement("li"), btn = document.createElement("button");
      var picks = hit.seventh && hit.seventh.length;
      btn.type = "button";
      btn.dataset.code = picks ? "" : hit.code;
      btn.dataset.system = hit.system || "";
      btn.hit = hit;
      var strong = document.createElement("strong");
      strong.textContent = picks ? hit.stem + "_" : hit.code;
      btn.appendChild(strong);
      btn.appendChild(document.createTextNode(" " + hit.description + (picks ? " (pick the 7th character)" : hit.billable === false ? " (needs more characters)" : "")));
      li.appendChild(btn);
      list.appendChild(li);
    });
  }
  if (t2c) {
    document.addEventListener("mouseup", function (ev) {
      if (t2c.contains(ev.target)) return;
      if (ev.target.closest(".transcript")) setTimeout(offerCodes, 0); else hideT2c();
    });
    document.addEventListener("keyup", function (ev) { if (ev.shiftKey && ev.target.closest && ev.target.closest(".transcript")) offerCodes(); });
    t2c.addEventListener("click", function (ev) {
      var b = ev.target.closest(".t2c-list button");
      if (!b) return;
      if (b.hit && b.hit.seventh && b.hit.seventh.length) {
        var hit = b.hit, list = $(".t2c-list", t2c);
        t2cHits(list, hit.seventh.map(function (c) {
          return { code: hit.stem + c[0], description: c[0] + " \u2014 " + c[1], billable: true, system: hit.system };
        }));
        if (list.querySelector("button")) list.querySelector("button").focus();
        return;
      }
      var form = $("[data-t2c-form]", t2c);
      form.elements.code.value = b.dataset.code;
      if (b.dataset.system) form.elements.system.value = b.dataset.system;
      form.requestSubmit();
    });
    t2c.addEventListener("keydown", function (ev) {
      if (ev.key === "Escape") { hideT2c(); ev.stopPropagation(); }
    });
    t2c.addEventListener("submit", function () {
      var form = $("[data-t2c-form]", t2c);
      if (!form.elements.system.value) form.elements.system.value = "ICD-10-CM";
      setTimeout(function () { hideT2c(); window.getSelection().removeAllRanges(); }, 0);
    }, true);
  }

  document.addEventListener("DOMContentLoaded", function () {
    showTab(activeTab);
    var first = rows().find(function (r) { return r.dataset.status === "proposed"; }) || rows()[0];
    if (first && !document.activeElement.matches("input, select, textarea")) selectRow(first, { quiet: true });
  });
})();
