// Every page: the top bar's menu folds behind a "Menu" button on narrow screens (without this
// script the menu stays open and wraps onto several lines, which works too); messages are
// announced; tables that scroll sideways can be reached by keyboard.
(function () {
  "use strict";
  // A wide table that scrolls inside its own box on a narrow screen (portal.css) must be
  // reachable by keyboard to be scrolled: it joins the Tab order while it overflows.
  var tables = document.querySelectorAll(".table:not(.stack)");
  var markScrollable = function () {
    tables.forEach(function (table) {
      if (table.scrollWidth > table.clientWidth + 1) {
        table.setAttribute("tabindex", "0");
      } else {
        table.removeAttribute("tabindex");
      }
    });
  };
  markScrollable();
  window.addEventListener("resize", markScrollable);

  // The result of the last action ("Profile saved.") arrives with a new page, and screen
  // readers don't read a live region's first content: say it again through the page's live
  // region once the page has settled.
  var live = document.getElementById("live-region");
  var messages = document.querySelector(".messages");
  if (live && messages && messages.textContent.trim()) {
    setTimeout(function () {
      live.textContent = messages.textContent.replace(/\s+/g, " ").trim();
    }, 250);
  }

  var header = document.querySelector(".topbar");
  var button = header && header.querySelector(".menu-toggle");
  var menu = document.getElementById("site-menu");
  if (!button || !menu) {
    return;
  }
  var setOpen = function (open) {
    button.setAttribute("aria-expanded", open ? "true" : "false");
    header.classList.toggle("menu-open", open);
  };
  header.classList.add("has-menu-toggle");
  button.hidden = false;
  setOpen(false);
  button.addEventListener("click", function () {
    setOpen(button.getAttribute("aria-expanded") !== "true");
  });
  header.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && button.getAttribute("aria-expanded") === "true") {
      setOpen(false);
      button.focus();
    }
  });
})();
