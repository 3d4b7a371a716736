// mksync web UI: pending states for plain forms, busy markers for htmx
// requests, and the client logger, which reports JavaScript errors and
// failed requests to POST /client-errors (ids and paths only, never form
// contents, search text or query strings).
(function () {
  "use strict";

  var maxReports = 20;
  var sent = 0;

  function csrfToken() {
    var m = document.querySelector('meta[name="csrf-token"]');
    return m ? m.getAttribute("content") : "";
  }

  function clip(s, n) {
    s = String(s == null ? "" : s);
    return s.length > n ? s.slice(0, n) : s;
  }

  // report sends one structured error report; it never throws and never
  // reports its own failures (that could loop).
  function report(operation, message, code, context) {
    var token = csrfToken();
    if (!token || sent >= maxReports || !window.fetch) {
      return;
    }
    sent++;
    var ctx = {};
    Object.keys(context || {}).slice(0, 18).forEach(function (k) {
      if (context[k] != null && context[k] !== "") {
        ctx[clip(k, 50)] = clip(context[k], 500);
      }
    });
    var body = {
      message: clip(message || "unknown error", 2000),
      operation: clip(operation, 100),
      code: clip(code || "client_error", 50),
      url: clip(location.pathname, 500),
      context: ctx
    };
    try {
      fetch("/client-errors", {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": token },
        body: JSON.stringify(body)
      }).catch(function () {});
    } catch (e) { /* nothing left to do */ }
  }

  function showFlash(message) {
    var flash = document.getElementById("flash");
    if (!flash) {
      return;
    }
    var box = document.createElement("div");
    box.className = "flash flash-error";
    box.setAttribute("role", "alert");
    var p = document.createElement("p");
    p.className = "flash-msg";
    p.textContent = message;
    box.appendChild(p);
    flash.replaceChildren(box);
  }

  window.addEventListener("error", function (ev) {
    report("js.error", ev.message, "js_error", {
      source: ev.filename ? ev.filename.replace(location.origin, "") : "",
      line: ev.lineno, column: ev.colno
    });
  });
  window.addEventListener("unhandledrejection", function (ev) {
    var r = ev.reason;
    report("js.unhandled_rejection", r && r.message ? r.message : String(r), "js_error", {});
  });

  function requestInfo(ev) {
    var d = ev.detail || {};
    var cfg = d.requestConfig || {};
    var path = cfg.path || (d.pathInfo && d.pathInfo.requestPath) || "";
    return { verb: (cfg.verb || "").toUpperCase(), path: String(path).split("?")[0], xhr: d.xhr };
  }

  document.addEventListener("htmx:beforeRequest", function (ev) {
    ev.target.setAttribute("aria-busy", "true");
  });
  document.addEventListener("htmx:afterRequest", function (ev) {
    ev.target.removeAttribute("aria-busy");
  });
  // HTTP failures are reported before the swap: the element that made the
  // request may be swapped out by the answer (a table row), and events of
  // a detached element no longer reach the document.
  document.addEventListener("htmx:beforeSwap", function (ev) {
    var info = requestInfo(ev);
    var status = info.xhr ? info.xhr.status : 0;
    if (status >= 500) {
      report("htmx " + info.verb + " " + info.path, "request failed with HTTP " + status, "http_" + status, {
        status: String(status), method: info.verb, path: info.path,
        errorId: info.xhr.getResponseHeader("X-Error-Id") || ""
      });
    }
  });
  document.addEventListener("htmx:sendError", function (ev) {
    var info = requestInfo(ev);
    showFlash("The server could not be reached. Check your connection and try again.");
    report("htmx " + info.verb + " " + info.path, "request could not be sent", "network_error", { method: info.verb, path: info.path });
  });
  document.addEventListener("htmx:timeout", function (ev) {
    var info = requestInfo(ev);
    showFlash("The server took too long to answer. Try again.");
    report("htmx " + info.verb + " " + info.path, "request timed out", "timeout", { method: info.verb, path: info.path });
  });
  document.addEventListener("htmx:swapError", function (ev) {
    var info = requestInfo(ev);
    report("htmx " + info.verb + " " + info.path, "swapping the answer failed", "swap_error", { method: info.verb, path: info.path });
  });

  // Plain form posts (no htmx, or forms htmx does not handle) show their
  // pending state too: the spinner shows and the buttons are disabled once
  // the browser has taken the submitted values.
  document.addEventListener("submit", function (ev) {
    var form = ev.target;
    if (!form.hasAttribute || !form.hasAttribute("data-pending")) {
      return;
    }
    setTimeout(function () {
      if (ev.defaultPrevented) {
        return; // htmx handles it
      }
      form.classList.add("is-pending");
      form.setAttribute("aria-busy", "true");
      form.querySelectorAll("button").forEach(function (b) { b.disabled = true; });
    }, 0);
  });
})();
