// The workbench's only script: follows a production's progress (server-sent events). Every page reads without it.
(function () {
  "use strict";
  function follow(box) {
    var bar = box.querySelector("#barre"), pct = box.querySelector("#pourcent"), step = box.querySelector("#etape");
    var issue = box.querySelector("#issue"), errs = box.querySelector("#erreurs");
    var source = new EventSource("/produire/flux");
    source.onmessage = function (ev) {
      var s = JSON.parse(ev.data);
      bar.style.width = s.percent + "%";
      pct.textContent = s.percent + " %";
      step.textContent = s.step;
      if (!s.running) {
        source.close();
        issue.textContent = s.message;
        issue.className = s.ok ? "ok" : "ko";
        errs.innerHTML = "";
        s.errors.forEach(function (e) { var li = document.createElement("li"); li.textContent = e; errs.appendChild(li); });
        box.dataset.running = "non";
        box.dataset.done = String(s.serial);
        if (s.ok) { setTimeout(function () { location.replace(location.pathname + "?fait=" + s.serial + "#production"); }, 800); }
      }
    };
    source.onerror = function () { source.close(); };
  }
  document.addEventListener("DOMContentLoaded", function () {
    var box = document.getElementById("production");
    if (!box) { return; }
    var form = document.getElementById("produire");
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var body = new FormData(form);
      fetch("/produire", {method: "POST", body: body, headers: {"Accept": "application/json"}})
        .then(function (r) { return r.json(); })
        .then(function (r) {
          if (!r.ok) { box.querySelector("#issue").textContent = r.message; box.querySelector("#issue").className = "ko"; }
          follow(box);
        });
    });
    if (box.dataset.running === "oui") { follow(box); }
  });
})();
