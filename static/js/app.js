/*
 * Kompanion's small progressive enhancements. Every page works without this file.
 * CSP is `script-src 'self'` without 'unsafe-eval': no inline handlers, no hx-on, no trigger filters.
 *
 * Hooks (data attributes, no inline script):
 *   data-dialog-open="ID"       button that opens <dialog id="ID"> with showModal()
 *   data-dialog-close           button inside a <dialog> that closes it
 *   data-dialog-autoshow        a <dialog> that opens as soon as it appears (e.g. swapped in by HTMX)
 *   data-copy="TEXT" | data-copy-target="#ID"   copy to the clipboard; data-copied-label="Copied"
 *   .toast[data-autodismiss="6000"]   removed after N ms (paused while hovered or focused)
 *   data-toast-close            dismiss button inside a toast
 *   [data-error-summary]        focused after a page load or swap that shows form errors
 *   [data-autofocus]            focused after a swap when there is no error to show
 *   details[data-open-wide]     opened on wide screens (filter panels that are a sidebar there)
 *   [data-day-strip]            date strip: show one day's [data-day-panel] at a time ([data-day-tab] links)
 *   a[data-lightbox="ID"]       open the linked image in <dialog id="ID"> (its [data-lightbox-img])
 *   a[data-load-more]           "Load more": focus the first new item after the append
 *   [data-result-summary]       its text is announced in #results-status after a swap
 *   [data-char-count="N"]       live "n / N characters" under the textarea inside
 *   textarea[data-enter-sends]  Enter submits its form (Shift+Enter: a new line)
 *   [data-poll]                 HTMX polling is skipped while the tab is hidden
 *   #messages                   a chat: kept scrolled to the newest message; a message id shown twice is dropped;
 *                               its empty-state line ([data-chat-empty]) goes once a message is shown
 *   .section-nav                its [aria-current=page] item is scrolled into view when the nav scrolls sideways
 *   [data-print]                button that opens the browser's print dialog (rendered `hidden`; shown here,
 *                               since it does nothing without JavaScript)
 * Server events: an `HX-Trigger: {"toast": {"message": "...", "level": "success"}}` header shows a toast.
 */
(function () {
  "use strict";

  var htmx = window.htmx;
  document.documentElement.classList.add("js");

  if (htmx) {
    // The CSP forbids eval; make htmx never try it, and never run scripts from swapped HTML.
    htmx.config.allowEval = false;
    htmx.config.allowScriptTags = false;
    // htmx would inject an inline <style> for .htmx-indicator; the CSP blocks it, app.css has the rules.
    htmx.config.includeIndicatorStyles = false;
    htmx.config.selfRequestsOnly = true;
    // Don't keep copies of pages (personal data) in localStorage on shared phones; refetch instead.
    htmx.config.historyCacheSize = 0;
    htmx.config.refreshOnHistoryMiss = true;
    // 422 (form errors) and 409 (lost a race: slot taken) carry HTML meant to be shown.
    htmx.config.responseHandling = [
      { code: "204", swap: false },
      { code: "[23]..", swap: true },
      { code: "409", swap: true, error: false },
      { code: "422", swap: true, error: false },
      { code: "[45]..", swap: false, error: true },
    ];
  }

  function $(selector, root) {
    return (root || document).querySelector(selector);
  }
  function $all(selector, root) {
    return Array.prototype.slice.call((root || document).querySelectorAll(selector));
  }

  /* ---- Toasts -------------------------------------------------------------------------------- */

  function dismissToast(toast) {
    if (!toast || toast.hasAttribute("data-leaving")) return;
    toast.setAttribute("data-leaving", "");
    var reduce = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
    window.setTimeout(function () { toast.remove(); }, reduce ? 0 : 200);
  }

  function armToast(toast) {
    if (toast.dataset.armed) return;
    toast.dataset.armed = "1";
    var delay = parseInt(toast.getAttribute("data-autodismiss"), 10);
    if (!delay) return;
    var timer = null;
    var start = function () { timer = window.setTimeout(function () { dismissToast(toast); }, delay); };
    var stop = function () { window.clearTimeout(timer); };
    toast.addEventListener("mouseenter", stop);
    toast.addEventListener("mouseleave", start);
    toast.addEventListener("focusin", stop);
    toast.addEventListener("focusout", start);
    start();
  }

  function showToast(message, level) {
    var region = document.getElementById("toasts");
    var template = document.getElementById("toast-template");
    if (!region || !template || !message) return;
    level = ["success", "info", "warning", "error"].indexOf(level) >= 0 ? level : "info";
    var toast = template.content.firstElementChild.cloneNode(true);
    toast.classList.add("toast-" + level);
    toast.setAttribute("role", level === "error" ? "alert" : "status");
    if (level === "error") toast.removeAttribute("data-autodismiss");
    $("[data-toast-message]", toast).textContent = message;
    region.appendChild(toast);
    armToast(toast);
  }

  /* ---- Focus management ---------------------------------------------------------------------- */

  function focusFirstError(root) {
    var target = $("[data-error-summary]", root) || $('[aria-invalid="true"]', root);
    if (target) {
      target.focus();
      return true;
    }
    return false;
  }

  function firstFocusable(root) {
    return $("input:not([type=hidden]):not([disabled]), select:not([disabled]), textarea:not([disabled]), button:not([disabled]), a[href]", root);
  }

  /* ---- Clipboard ----------------------------------------------------------------------------- */

  function copyText(button) {
    var text = button.getAttribute("data-copy");
    var targetSelector = button.getAttribute("data-copy-target");
    if (targetSelector) {
      var target = $(targetSelector);
      if (!target) return;
      text = "value" in target ? target.value : target.textContent;
    }
    if (!text || !navigator.clipboard) return;
    navigator.clipboard.writeText(text.trim()).then(function () {
      var label = $("[data-copy-label]", button) || button;
      var original = label.textContent;
      var copied = button.getAttribute("data-copied-label");
      if (copied) {
        label.textContent = copied;
        window.setTimeout(function () { label.textContent = original; }, 2000);
      }
      showToast(copied, "success");
    });
  }

  /* ---- Date strip, character count, load more ------------------------------------------------ */

  var pendingFocus = null;

  function selectDay(strip, id, moveFocus) {
    $all("[data-day-panel]", strip).forEach(function (panel) { panel.hidden = panel.id !== id; });
    $all("[data-day-tab]", strip).forEach(function (tab) {
      if (tab.getAttribute("data-day-tab") === id) tab.setAttribute("aria-current", "true");
      else tab.removeAttribute("aria-current");
    });
    if (moveFocus) {
      var heading = $("#" + id + " h3", strip);
      if (heading) heading.focus({ preventScroll: true });
    }
  }

  function enhanceDayStrip(strip) {
    if (strip.dataset.enhanced) return;
    strip.dataset.enhanced = "1";
    var panels = $all("[data-day-panel]", strip);
    if (!panels.length) return;
    // Start on the first day that has free times, else today.
    var first = panels.filter(function (panel) { return $(".slot", panel); })[0] || panels[0];
    var wanted = window.location.hash.slice(1);
    if (wanted && document.getElementById(wanted) && strip.contains(document.getElementById(wanted))) first = document.getElementById(wanted);
    selectDay(strip, first.id, false);
  }

  function enhanceCharCount(box) {
    if (box.dataset.enhanced) return;
    box.dataset.enhanced = "1";
    var field = $("textarea", box);
    var output = $("[data-char-count-output]", box);
    var max = parseInt(box.getAttribute("data-char-count"), 10);
    if (!field || !output || !max) return;
    var update = function () { output.textContent = field.value.length + " / " + max; };
    field.addEventListener("input", update);
    update();
  }

  /* ---- Event wiring -------------------------------------------------------------------------- */

  document.addEventListener("click", function (event) {
    var el = event.target.closest("[data-dialog-open], [data-dialog-close], [data-copy], [data-copy-target], [data-toast-close], [data-error-summary] a[href^='#'], [data-day-tab], [data-lightbox], [data-load-more], [data-print]");
    if (!el) {
      // A click on a modal's backdrop (outside its box) closes it.
      if (event.target.tagName === "DIALOG" && event.target.open) {
        var rect = event.target.getBoundingClientRect();
        var inside = event.clientX >= rect.left && event.clientX <= rect.right &&
          event.clientY >= rect.top && event.clientY <= rect.bottom;
        if (!inside) event.target.close();
      }
      closeMenus(event.target);
      return;
    }
    if (el.hasAttribute("data-print")) {
      event.preventDefault();
      window.print();
    } else if (el.hasAttribute("data-day-tab")) {
      var strip = el.closest("[data-day-strip]");
      if (strip && strip.dataset.enhanced) {
        event.preventDefault();
        selectDay(strip, el.getAttribute("data-day-tab"), true);
      }
    } else if (el.hasAttribute("data-lightbox")) {
      var box = document.getElementById(el.getAttribute("data-lightbox"));
      var img = box && $("[data-lightbox-img]", box);
      if (img && typeof box.showModal === "function") {
        event.preventDefault();
        var thumb = $("img", el);
        img.src = el.getAttribute("href");
        img.alt = thumb ? thumb.alt : "";
        box.showModal();
      }
    } else if (el.hasAttribute("data-load-more")) {
      var list = $(el.getAttribute("data-load-more"));
      if (list) pendingFocus = { list: list, index: list.children.length };
    } else if (el.hasAttribute("data-dialog-open")) {
      var dialog = document.getElementById(el.getAttribute("data-dialog-open"));
      if (dialog && typeof dialog.showModal === "function") {
        event.preventDefault();
        dialog.showModal();
      }
    } else if (el.hasAttribute("data-dialog-close")) {
      var parent = el.closest("dialog");
      if (parent) {
        event.preventDefault();
        parent.close();
      }
    } else if (el.hasAttribute("data-toast-close")) {
      dismissToast(el.closest(".toast"));
    } else if (el.hasAttribute("data-copy") || el.hasAttribute("data-copy-target")) {
      event.preventDefault();
      copyText(el);
    } else {
      // Error summary link: move focus to the field itself, not just scroll to it.
      var field = document.getElementById(el.getAttribute("href").slice(1));
      if (field) {
        var focusable = field.matches("input, select, textarea") ? field : firstFocusable(field);
        if (focusable) {
          event.preventDefault();
          focusable.focus();
          focusable.scrollIntoView({ block: "center" });
        }
      }
    }
    closeMenus(event.target);
  });

  // Menus built on <details>: close on Escape or on a click elsewhere.
  function closeMenus(clicked) {
    $all("details.menu[open]").forEach(function (menu) {
      if (!menu.contains(clicked)) menu.removeAttribute("open");
    });
  }
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    $all("details.menu[open]").forEach(function (menu) {
      menu.removeAttribute("open");
      var summary = $("summary", menu);
      if (summary) summary.focus();
    });
  });

  function scrollChatToEnd() {
    var list = document.getElementById("messages");
    if (!list) return;
    var seen = {};
    $all("[data-message-id]", list).forEach(function (item) {
      var id = item.getAttribute("data-message-id");
      if (seen[id]) item.remove(); else seen[id] = true;
    });
    if (list.querySelector("[data-message-id]")) $all("[data-chat-empty]").forEach(function (line) { line.remove(); });
    list.scrollTop = list.scrollHeight;
  }

  // A section nav that scrolls sideways (phones): the current page's item is brought into view.
  function showCurrentNavItem(nav) {
    var current = nav.querySelector("[aria-current=page]");
    if (!current || nav.scrollWidth <= nav.clientWidth) return;
    var item = current.closest("li") || current;
    nav.scrollLeft = item.offsetLeft - nav.offsetLeft - (nav.clientWidth - item.offsetWidth) / 2;
  }

  function enhance(root) {
    if (window.matchMedia("(min-width: 1024px)").matches) {
      $all("details[data-open-wide]", root).forEach(function (details) { details.open = true; });
    }
    $all("[data-day-strip]", root).forEach(enhanceDayStrip);
    $all("[data-char-count]", root).forEach(enhanceCharCount);
    $all(".section-nav", root).forEach(showCurrentNavItem);
    $all("[data-print][hidden]", root).forEach(function (button) { button.hidden = false; });
    $all(".toast[data-autodismiss]", root).forEach(armToast);
    $all("dialog[data-dialog-autoshow]", root).forEach(function (dialog) {
      if (!dialog.open && typeof dialog.showModal === "function") dialog.showModal();
    });
    if (root.matches && root.matches(".toast[data-autodismiss]")) armToast(root);
  }

  document.addEventListener("DOMContentLoaded", function () {
    enhance(document);
    focusFirstError(document);
    scrollChatToEnd();
  });

  document.addEventListener("keydown", function (event) {
    var box = event.target;
    if (event.key !== "Enter" || event.shiftKey || event.isComposing || !box.matches || !box.matches("textarea[data-enter-sends]")) return;
    event.preventDefault();
    if (box.form && box.value.trim()) box.form.requestSubmit();
  });

  if (htmx) {
    document.addEventListener("htmx:load", function (event) {
      enhance(event.target);
    });
    document.addEventListener("htmx:beforeRequest", function (event) {
      var element = event.detail.elt;
      if (element && element.hasAttribute && element.hasAttribute("data-poll") && document.visibilityState === "hidden") {
        event.preventDefault();
      }
    });
    document.addEventListener("htmx:oobAfterSwap", function (event) {
      if (event.detail && event.detail.target && event.detail.target.id === "messages") scrollChatToEnd();
    });
    document.addEventListener("htmx:afterSettle", function (event) {
      if (pendingFocus) {
        var item = pendingFocus.list.children[pendingFocus.index];
        pendingFocus = null;
        // Appended in place: "Previous page" and "Page N" describe the no-JS pages, not this list.
        $all("#pager [rel=prev], #pager [data-page-status]").forEach(function (node) { node.remove(); });
        var link = item && $("a[href]", item);
        if (link) { link.focus(); return; }
      }
      var summary = $("[data-result-summary]", event.detail.target && event.detail.target.isConnected ? event.detail.target : document);
      var status = document.getElementById("results-status");
      if (summary && status) {
        status.textContent = summary.textContent.trim();
        // After an explicit "Show results" (not typing or a change), take the user to the results.
        var trigger = event.detail.requestConfig && event.detail.requestConfig.triggeringEvent;
        if (trigger && trigger.type === "submit") {
          summary.focus();
          summary.scrollIntoView({ block: "start" });
          return;
        }
      }
      var root = event.detail.target;
      if (!root || !root.isConnected) root = document; // outerHTML swaps detach the old target
      if (focusFirstError(root)) return;
      // Only take focus if the swap destroyed it (a poll must never steal focus from the user).
      var active = document.activeElement;
      if (!active || active === document.body) {
        var heading = $("[data-autofocus]", root);
        if (heading) heading.focus();
      }
    });
    // Search form: leave empty fields and defaults out of the request, so the pushed URL stays short
    // and shareable (?city=bandung&date=2026-11-28, not every parameter of the form).
    document.addEventListener("htmx:configRequest", function (event) {
      var form = event.detail.elt;
      if (!form || form.id !== "search-form" || event.detail.verb !== "get") return;
      var params = event.detail.parameters;
      var keys = typeof params.keys === "function" ? Array.from(params.keys()) : Object.keys(params);
      keys.forEach(function (key) {
        var value = typeof params.get === "function" ? params.get(key) : params[key];
        var field = form.elements[key];
        var fallback = field && field.getAttribute && field.getAttribute("data-default");
        if (value === "" || value == null || (fallback != null && value === fallback)) {
          if (typeof params.delete === "function") params.delete(key); else delete params[key];
        }
      });
    });
    document.addEventListener("toast", function (event) {
      var detail = event.detail || {};
      showToast(detail.message || detail.value, detail.level);
    });
    function networkError() {
      var region = document.getElementById("toasts");
      showToast(region && region.getAttribute("data-error-message"), "error");
    }
    document.addEventListener("htmx:responseError", networkError);
    document.addEventListener("htmx:sendError", networkError);
  }
})();
