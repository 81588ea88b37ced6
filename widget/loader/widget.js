/*! Baton widget loader. https://example.invalid/baton — Apache-2.0
 *
 * Embed with one tag:
 *   <script src="https://YOUR-BATON-HOST/widget.js" data-site="YOUR-SITE" async></script>
 *
 * This file draws the chat launcher at once and loads the chat itself (a Yew app
 * compiled to WebAssembly) only when the customer reaches for it (hover, focus, touch,
 * click) or when the browser is idle. Everything lives in a Shadow DOM: the page's CSS
 * cannot reach in, and styles are attached as constructable stylesheets, so the widget
 * works under a strict Content-Security-Policy without 'unsafe-inline'.
 */
(function () {
  "use strict";
  if (window.Baton && window.Baton.version) {
    // Loaded again: keep the first, and put its chat back if the page replaced the part
    // of the document it was in.
    if (window.Baton.attach) window.Baton.attach();
    return;
  }

  var script = document.currentScript;
  if (!script) {
    console.error("Baton: widget.js must be loaded as a classic script (<script src=… async>), not a module");
    return;
  }
  // Performance marks, for site owners and for `cargo xtask bench widget`.
  function mark(name) {
    if (window.performance && performance.mark) performance.mark(name);
  }
  mark("baton:loader-start");
  var data = script.dataset;
  var assetBase = new URL(".", script.src).href;
  // A wrong option is named in the console, and its default used.
  function ignored(option, value, why) {
    console.warn("Baton: data-" + option + "=\"" + value + "\" " + why + "; using the default");
  }
  var endpoint = new URL(script.src).origin;
  if (data.endpoint) {
    if (/^https?:\/\/[^/]/.test(data.endpoint)) endpoint = data.endpoint.replace(/\/+$/, "");
    else ignored("endpoint", data.endpoint, "is not an http(s) address such as https://help.example.com");
  }
  if (data.position && data.position !== "left" && data.position !== "right") {
    ignored("position", data.position, "is neither left nor right");
  }
  var lang = data.lang || navigator.language || "en";
  // `data-greeting-fr`, `data-greeting-ar`…: the greeting in the chat's language, if given.
  var primary = lang.slice(0, 2).toLowerCase();
  var options = {
    site: data.site || "",
    endpoint: endpoint,
    lang: lang,
    greeting: data["greeting" + primary.charAt(0).toUpperCase() + primary.slice(1)] || data.greeting || "",
    position: data.position === "left" ? "left" : "right",
    modelUrl: assetBase + "sites/" + encodeURIComponent(data.site || "") + "/model.bin",
  };
  if (!options.site) {
    console.error("Baton: the script tag needs data-site=\"YOUR-SITE\"");
    return;
  }

  var LAUNCHER_CSS =
    ":host{all:initial!important;display:block!important;position:fixed!important;z-index:2147483647!important;" +
    "bottom:0!important;right:0!important;width:0!important;height:0!important;" +
    "font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif!important;--baton-accent:#1f5f4a}" +
    ".launcher{position:fixed;bottom:calc(20px + env(safe-area-inset-bottom,0px));right:calc(20px + env(safe-area-inset-right,0px));width:60px;height:60px;border-radius:50%;border:0;margin:0;padding:0;" +
    "background:var(--baton-accent);color:#fff;cursor:pointer;display:flex;align-items:center;justify-content:center;" +
    "box-shadow:0 6px 20px rgba(0,0,0,.25);transition:transform .15s ease}" +
    ".launcher:hover{transform:scale(1.05)}.launcher[aria-busy=true]{cursor:progress;opacity:.85}" +
    ".launcher:focus-visible{outline:3px solid #111;outline-offset:3px;box-shadow:0 0 0 6px #fff}" +
    ".launcher svg{width:28px;height:28px;fill:none;stroke:currentColor;stroke-width:2;stroke-linecap:round;stroke-linejoin:round}" +
    ".launcher .icon-close{display:none}" +
    ".launcher .badge{position:absolute;top:-3px;right:-3px;min-width:22px;height:22px;padding:0 6px;box-sizing:border-box;" +
    "border-radius:11px;background:#b3261e;color:#fff;font:700 12px/22px system-ui,sans-serif;text-align:center;box-shadow:0 0 0 2px #fff}" +
    ".launcher .badge[hidden]{display:none}" +
    ".launcher[aria-expanded=true] .icon-chat{display:none}" +
    ".launcher[aria-expanded=true] .icon-close{display:block}" +
    ":host([data-position=left]) .launcher{left:calc(20px + env(safe-area-inset-left,0px));right:auto}" +
    ".notice{position:fixed;bottom:calc(92px + env(safe-area-inset-bottom,0px));right:calc(20px + env(safe-area-inset-right,0px));" +
    "max-width:260px;margin:0;padding:10px 14px;border-radius:12px;background:#fff;color:#1b1f1d;" +
    "font:14px/1.4 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;box-shadow:0 6px 20px rgba(0,0,0,.25)}" +
    ".notice:empty{display:none}:host([data-position=left]) .notice{left:calc(20px + env(safe-area-inset-left,0px));right:auto}" +
    "@media (forced-colors:active){.launcher{border:2px solid ButtonText}}" +
    "@media (prefers-reduced-motion:reduce){.launcher{transition:none}.launcher:hover{transform:none}}";

  var host = document.createElement("baton-chat");
  host.setAttribute("data-position", options.position);
  if (data.color) {
    if (window.CSS && CSS.supports("color", data.color) && !/var\(/.test(data.color)) {
      host.style.setProperty("--baton-accent", data.color);
    } else {
      ignored("color", data.color, "is not a CSS colour such as #1f5f4a");
    }
  }
  var root = host.attachShadow({ mode: "open" });
  adoptStyle(root, LAUNCHER_CSS);

  var launcher = document.createElement("button");
  launcher.type = "button";
  launcher.className = "launcher";
  // Named in the chat's language from the start (the chat, once loaded, keeps it so and
  // adds the unread count).
  var LABELS = { fr: "Discuter avec nous", ar: "تحدث معنا" };
  launcher.setAttribute("aria-label", LABELS[primary] || "Chat with us");
  launcher.setAttribute("aria-haspopup", "dialog");
  launcher.setAttribute("aria-expanded", "false");
  // Built node by node, not from markup: pages that enforce Trusted Types refuse innerHTML.
  function icon(className, path) {
    var svgNs = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(svgNs, "svg");
    svg.setAttribute("class", className);
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    var shape = document.createElementNS(svgNs, "path");
    shape.setAttribute("d", path);
    svg.appendChild(shape);
    launcher.appendChild(svg);
  }
  icon("icon-chat", "M21 12a8 8 0 0 1-11.6 7.1L4 20.5l1.4-4.9A8 8 0 1 1 21 12z");
  icon("icon-close", "M6 6l12 12M18 6L6 18");
  var badge = document.createElement("span");
  badge.className = "badge";
  badge.setAttribute("aria-hidden", "true");
  badge.hidden = true;
  launcher.appendChild(badge);
  var panelRoot = document.createElement("div");
  panelRoot.className = "panel-root";
  root.appendChild(panelRoot);
  root.appendChild(launcher);
  // Said when the chat could not load (offline, say): the button did something, and
  // pressing it again tries again. A status region there from the start, so that what
  // is put in it is read out.
  var NOT_LOADED = {
    en: "The chat could not load. Press the button to try again.",
    fr: "Le chat n’a pas pu se charger. Touchez le bouton pour réessayer.",
    ar: "تعذّر تحميل المحادثة. اضغط الزر لإعادة المحاولة.",
  };
  var notice = document.createElement("p");
  notice.className = "notice";
  notice.setAttribute("role", "status");
  root.appendChild(notice);
  function notLoaded(failed) {
    var lang = NOT_LOADED[primary] ? primary : "en";
    notice.textContent = failed ? NOT_LOADED[lang] : "";
    notice.lang = lang;
    notice.dir = lang === "ar" ? "rtl" : "ltr";
  }

  // The chat hangs from <html>, beside <body>, not inside it: a page that swaps its body
  // (Turbo, pjax, htmx) keeps it, and a filter or transform on the body cannot move it.
  function attach() {
    if (!host.isConnected) document.documentElement.appendChild(host);
  }
  attach();
  mark("baton:launcher");

  // The public API. Calls made before the app has loaded wait for it.
  var EVENTS = ["open", "close", "message", "escalated", "agent_joined", "resolved", "unread"];
  var listeners = {};
  var app = null;
  var loading = null;
  var lastUnread = null;
  function emit(event, detail) {
    if (event === "open") {
      launcher.setAttribute("aria-expanded", "true");
      followViewport(true);
      coverPage(true);
    }
    if (event === "unread") {
      // Messages from the team that came while the panel was closed; the label says it
      // in the chat's language (the badge itself is hidden from screen readers).
      lastUnread = detail;
      badge.textContent = detail.count > 0 ? String(detail.count) : "";
      badge.hidden = !(detail.count > 0);
      launcher.setAttribute("aria-label", detail.label);
    }
    if (event === "close") {
      launcher.setAttribute("aria-expanded", "false");
      followViewport(false);
      coverPage(false);
      if (detail && detail.returnFocus) launcher.focus();
    }
    (listeners[event] || []).slice().forEach(function (fn) {
      try { fn(detail); } catch (err) { console.error("Baton: a listener for '" + event + "' threw", err); }
    });
  }
  // On a phone the open panel fills the visual viewport: the part of the page left above
  // the on-screen keyboard, which most browsers shrink (and iOS scrolls) without changing
  // the layout viewport that 100dvh measures. Following it keeps the message box above
  // the keyboard. (Custom properties set through the CSSOM are allowed by a strict CSP.)
  // Zoomed in with two fingers, the visual viewport is also narrower than the page and
  // moved sideways: the panel covers what is visible, close button and Send included.
  var viewport = window.visualViewport;
  var VIEWPORT_PROPERTIES = ["top", "height", "left", "right"];
  function fitViewport() {
    var right = document.documentElement.clientWidth - viewport.offsetLeft - viewport.width;
    host.style.setProperty("--baton-viewport-top", viewport.offsetTop + "px");
    host.style.setProperty("--baton-viewport-height", viewport.height + "px");
    host.style.setProperty("--baton-viewport-left", viewport.offsetLeft + "px");
    host.style.setProperty("--baton-viewport-right", Math.max(0, right) + "px");
  }
  function followViewport(open) {
    if (!viewport) return;
    var method = open ? "addEventListener" : "removeEventListener";
    viewport[method]("resize", fitViewport);
    viewport[method]("scroll", fitViewport);
    if (open) fitViewport();
    else {
      VIEWPORT_PROPERTIES.forEach(function (name) {
        host.style.removeProperty("--baton-viewport-" + name);
      });
    }
  }
  // A chat that fills the screen behaves as a page of its own: the page behind it does
  // not scroll (a drag on the header would move it, or pull it to reload), and the Back
  // button closes the chat instead of leaving the page. That takes one history entry,
  // carrying the page's own state (a router's), taken back when the chat closes.
  var fillsScreen = window.matchMedia && matchMedia("(max-width: 640px), (max-height: 500px)");
  var chatOpen = false;
  var pageOverflow = null;
  // The open chat's history entry, while it has one: its token (`batonChat` in the
  // entry's state) and its address.
  var entry = null;
  // Our own step back, whose `popstate` is not the customer's.
  var backPending = false;
  function entryToken(state) {
    return state && typeof state === "object" ? state.batonChat : undefined;
  }
  function coverPage(open) {
    chatOpen = open;
    var covers = open && !!fillsScreen && fillsScreen.matches;
    var page = document.documentElement.style;
    if (covers && pageOverflow === null) {
      pageOverflow = page.overflow;
      page.overflow = "hidden";
    } else if (!covers && pageOverflow !== null) {
      page.overflow = pageOverflow;
      pageOverflow = null;
    }
    if (covers && !entry) {
      var before = entryToken(history.state);
      if (entryFromBefore && before && !backPending) {
        // After a reload with the chat open, the entry is ours already: taken back, not
        // added again (Back would then seem to do nothing once).
        entry = { token: before, url: location.href };
      } else {
        var token = String(Math.random()).slice(2) || "1";
        var state = history.state && typeof history.state === "object" ? history.state : {};
        history.pushState(Object.assign({}, state, { batonChat: token }), "");
        entry = { token: token, url: location.href };
      }
      entryFromBefore = false;
    } else if (!open && entry) {
      // Taken back only while it is the entry on top (a router may have moved on).
      if (entryToken(history.state) === entry.token && location.href === entry.url) {
        backPending = true;
        history.back();
      }
      entry = null;
    }
  }
  window.addEventListener("popstate", function (event) {
    if (backPending) {
      backPending = false;
      return;
    }
    // Any step through history while the chat has its entry closes the chat.
    if (entry && entryToken(event.state) !== entry.token) {
      entry = null;
      if (app) app.close();
    }
  });
  // Turned or resized: the page is covered, or not, as the panel now is.
  if (fillsScreen && fillsScreen.addEventListener) {
    fillsScreen.addEventListener("change", function () {
      coverPage(chatOpen);
    });
  }
  // The chat comes in two builds: with WebAssembly SIMD (Chromium 91, Firefox 89, Safari
  // 16.4 and later), where triage takes about a quarter less time, and without, since a
  // module using SIMD does not load at all where it is missing. The probe is the
  // smallest module with a SIMD instruction: (func (result v128) i32.const 0
  // i8x16.splat i8x16.popcnt).
  function wasmFile() {
    var simd = WebAssembly.validate(new Uint8Array([
      0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98, 11
    ]));
    return assetBase + (simd ? "widget/baton_simd_bg.wasm" : "widget/baton_bg.wasm");
  }
  function load() {
    if (!loading) {
      loading = import(assetBase + "widget/baton.js")
        .then(function (module) {
          return module.default({ module_or_path: wasmFile() }).then(function () {
            app = module.mount(root, panelRoot, options, emit);
            notLoaded(false);
            mark("baton:ready");
            return app;
          });
        })
        .catch(function (err) {
          loading = null;
          host.setAttribute("data-load-error", "");
          console.error("Baton: the chat could not load", err);
          throw err;
        });
    }
    return loading;
  }
  // Loading ahead of need: a failure is already in the console, and the next reach for
  // the chat tries again.
  function preload() {
    load().catch(function () {});
  }
  // API calls wait for the app, and reject when it cannot load, so the page can offer
  // another way to reach it.
  function withApp(fn) {
    attach();
    return load().then(fn);
  }

  launcher.addEventListener("pointerenter", preload, { once: true });
  launcher.addEventListener("focus", preload, { once: true });
  launcher.addEventListener("touchstart", preload, { once: true, passive: true });
  launcher.addEventListener("click", function () {
    // Until the chat has loaded the launcher shows it closed, so every click means
    // "open" (two impatient clicks must not open it and close it again).
    var loaded = !!app;
    if (!loaded) {
      launcher.setAttribute("aria-busy", "true");
      notLoaded(false);
    }
    withApp(function (a) {
      launcher.removeAttribute("aria-busy");
      if (loaded) a.toggle();
      else a.open();
    }).catch(function () {
      launcher.removeAttribute("aria-busy");
      notLoaded(true);
    });
  });
  var hasConversation = false;
  try { hasConversation = !!localStorage.getItem("baton.chat." + options.site); } catch (e) { /* storage disabled */ }
  // This page's history entry was the open chat's before a reload: the chat takes it back
  // when it opens again, and without a conversation to reopen it is the page's again.
  var entryFromBefore = !!entryToken(history.state);
  if (entryFromBefore && !hasConversation) {
    var pageState = Object.assign({}, history.state);
    delete pageState.batonChat;
    history.replaceState(pageState, "");
    entryFromBefore = false;
  }
  if (hasConversation) preload(); // an ongoing conversation comes back at once
  else if ("requestIdleCallback" in window) requestIdleCallback(preload, { timeout: 5000 });
  else setTimeout(preload, 3000);

  window.Baton = {
    version: "0.1.0",
    open: function () { return withApp(function (a) { a.open(); }); },
    close: function () { return withApp(function (a) { a.close(); }); },
    identify: function (identity) { return withApp(function (a) { a.identify(identity || {}); }); },
    // On sign-out on a shared computer: the next person finds no trace of this one.
    reset: function () { return withApp(function (a) { a.reset(); }); },
    attach: attach,
    on: function (event, fn) {
      if (typeof fn !== "function") throw new TypeError("Baton.on: the listener for '" + event + "' is not a function");
      if (EVENTS.indexOf(event) < 0) console.warn("Baton.on: no event is called '" + event + "'; the events are " + EVENTS.join(", "));
      (listeners[event] = listeners[event] || []).push(fn);
      // A listener added after the chat loaded still hears how many messages are unread.
      if (event === "unread" && lastUnread) {
        var unread = lastUnread;
        setTimeout(function () { if ((listeners.unread || []).indexOf(fn) >= 0) fn(unread); });
      }
      return function off() {
        listeners[event] = (listeners[event] || []).filter(function (f) { return f !== fn; });
      };
    },
  };
  // For scripts that may run before this one (an async tag runs when it arrives):
  //   if (window.Baton) setUp(); else addEventListener("baton:ready", setUp);
  window.dispatchEvent(new Event("baton:ready"));

  function adoptStyle(shadowRoot, css) {
    var sheet = new CSSStyleSheet();
    sheet.replaceSync(css);
    shadowRoot.adoptedStyleSheets = shadowRoot.adoptedStyleSheets.concat([sheet]);
  }
})();
