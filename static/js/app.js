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
 * Server events: an `HX-Trigger: {"toast": {"message": "...", "level": "success"}}` header shows a toast.
 */
(function () {
  "use strict";

  var htmx = window.htmx;

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

  /* ---- Event wiring -------------------------------------------------------------------------- */

  document.addEventListener("click", function (event) {
    var el = event.target.closest("[data-dialog-open], [data-dialog-close], [data-copy], [data-copy-target], [data-toast-close], [data-error-summary] a[href^='#']");
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
    if (el.hasAttribute("data-dialog-open")) {
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

  function enhance(root) {
    $all(".toast[data-autodismiss]", root).forEach(armToast);
    $all("dialog[data-dialog-autoshow]", root).forEach(function (dialog) {
      if (!dialog.open && typeof dialog.showModal === "function") dialog.showModal();
    });
    if (root.matches && root.matches(".toast[data-autodismiss]")) armToast(root);
  }

  document.addEventListener("DOMContentLoaded", function () {
    enhance(document);
    focusFirstError(document);
  });

  if (htmx) {
    document.addEventListener("htmx:load", function (event) {
      enhance(event.target);
    });
    document.addEventListener("htmx:afterSettle", function (event) {
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
