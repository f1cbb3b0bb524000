// Copy buttons and the operating-system tabs. The page works without this script: commands
// stay selectable text, and each operating system is a link that reloads the page with it.
(function () {
  "use strict";
  var live = document.getElementById("live-region");

  // Screen readers hear "Copied" through the page's live region; emptying it first makes a
  // second copy of the same text announced again.
  function announce(text) {
    if (!live) {
      return;
    }
    live.textContent = "";
    setTimeout(function () { live.textContent = text; }, 50);
  }

  document.querySelectorAll("[data-copy]").forEach(function (button) {
    button.hidden = false;
    var timer = null;
    button.addEventListener("click", function () {
      var source = document.getElementById(button.getAttribute("data-copy"));
      var text = source ? source.textContent : "";
      var done = function () {
        button.textContent = "Copied";
        announce("Copied");
        clearTimeout(timer);
        timer = setTimeout(function () { button.textContent = "Copy"; }, 2000);
      };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(done, function () { fallback(text); done(); });
      } else {
        fallback(text);
        done();
      }
    });
  });

  function fallback(text) {
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.opacity = "0";
    document.body.appendChild(area);
    area.select();
    try { document.execCommand("copy"); } catch (e) { /* selection stays for manual copy */ }
    document.body.removeChild(area);
  }

  // WAI-ARIA tabs (https://www.w3.org/WAI/ARIA/apg/patterns/tabs/), automatic activation:
  // the selected tab is the only one in the Tab order; Left/Right move between tabs and
  // wrap, Home/End go to the first/last. The address keeps ?os= so a reload shows the same.
  document.querySelectorAll("[data-tablist]").forEach(function (list) {
    var tabs = Array.prototype.slice.call(list.querySelectorAll("[data-panel]"));
    if (!tabs.length) {
      return;
    }
    list.setAttribute("role", "tablist");
    var panelOf = function (tab) { return document.getElementById(tab.getAttribute("data-panel")); };
    var select = function (tab, focus) {
      tabs.forEach(function (other) {
        var on = other === tab;
        other.setAttribute("aria-selected", on ? "true" : "false");
        other.setAttribute("tabindex", on ? "0" : "-1");
        panelOf(other).hidden = !on;
      });
      if (focus) {
        tab.focus();
      }
      if (window.history && window.history.replaceState) {
        window.history.replaceState(null, "", tab.getAttribute("href"));
      }
    };
    var initial = tabs[0];
    tabs.forEach(function (tab) {
      var panel = panelOf(tab);
      tab.setAttribute("role", "tab");
      tab.setAttribute("aria-controls", panel.id);
      panel.setAttribute("role", "tabpanel");
      panel.setAttribute("tabindex", "0");
      if (tab.getAttribute("aria-current") === "true") {
        initial = tab;
      }
      tab.removeAttribute("aria-current");
      tab.addEventListener("click", function (event) {
        event.preventDefault();
        select(tab, true);
      });
      tab.addEventListener("keydown", function (event) {
        var index = tabs.indexOf(tab);
        var next = null;
        if (event.key === "ArrowRight") {
          next = tabs[(index + 1) % tabs.length];
        } else if (event.key === "ArrowLeft") {
          next = tabs[(index - 1 + tabs.length) % tabs.length];
        } else if (event.key === "Home") {
          next = tabs[0];
        } else if (event.key === "End") {
          next = tabs[tabs.length - 1];
        }
        if (next) {
          event.preventDefault();
          select(next, true);
        }
      });
    });
    tabs.forEach(function (tab) {
      tab.setAttribute("aria-selected", tab === initial ? "true" : "false");
      tab.setAttribute("tabindex", tab === initial ? "0" : "-1");
    });
  });
})();
