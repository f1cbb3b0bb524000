// Copy buttons and OS tabs. The page works without this script: commands stay selectable
// text and every OS section is shown.
(function () {
  "use strict";
  document.querySelectorAll("[data-copy]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      var source = document.getElementById(button.getAttribute("data-copy"));
      var text = source ? source.textContent : "";
      var done = function () {
        button.textContent = "Copied";
        setTimeout(function () { button.textContent = "Copy"; }, 2000);
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
  var tabs = document.querySelectorAll("[role=tab][data-panel]");
  if (tabs.length) {
    var select = function (tab) {
      tabs.forEach(function (other) {
        var on = other === tab;
        other.setAttribute("aria-selected", on ? "true" : "false");
        document.getElementById(other.getAttribute("data-panel")).hidden = !on;
      });
    };
    tabs.forEach(function (tab) {
      tab.hidden = false;
      tab.addEventListener("click", function () { select(tab); });
    });
    select(tabs[0]);
  }
})();
