// jinlin staff console: live updates over Server-Sent Events, without a reload. No framework, nothing fetched
// from elsewhere. A page opts in with attributes on <main>:
//   data-live-query="service=complaints&subject=c-1"   which events this page cares about
//   data-live-feed                                     prepend each event to #feed-rows (the live feed)
//   data-live-refresh="/complaints/rows?view=open"     re-fetch this fragment into #live-rows on each event
//   data-live-reload                                   re-fetch the page and swap every [data-live-region]
(function () {
  "use strict";
  // One submission per form: the Idempotency-Key makes a second one harmless, this makes it visible.
  document.addEventListener("submit", function (event) {
    var button = event.target.querySelector("button[type=submit]");
    if (button) { setTimeout(function () { button.disabled = true; }, 0); }
  });

  var main = document.querySelector("main[data-live-query]");
  var dot = document.getElementById("live-dot");
  if (!main || !window.EventSource) { return; }

  var pending = null;
  function later(work, delay) {
    if (pending) { clearTimeout(pending); }
    pending = setTimeout(function () { pending = null; work(); }, delay);
  }

  function text(value) { return value == null ? "" : String(value); }
  function cell(content, className) {
    var td = document.createElement("td");
    if (className) { td.className = className; }
    if (content instanceof Node) { td.appendChild(content); } else { td.textContent = text(content); }
    return td;
  }
  function chip(label, className) {
    var span = document.createElement("span");
    span.className = "chip " + className;
    span.textContent = label;
    return span;
  }
  function link(href, label) {
    var a = document.createElement("a");
    a.href = href; a.textContent = label;
    return a;
  }

  function prependEvent(event) {
    var body = document.getElementById("feed-rows");
    if (!body || body.querySelector('[data-event-id="' + event.id + '"]')) { return; }
    var empty = document.getElementById("feed-empty");
    if (empty) { empty.remove(); }
    var tr = document.createElement("tr");
    tr.className = "fresh";
    tr.setAttribute("data-event-id", event.id);
    tr.appendChild(cell(event.time, "nowrap muted"));
    tr.appendChild(cell(chip(event.service_label, "svc-" + event.service)));
    var what = document.createElement("div");
    var strong = document.createElement("strong"); strong.textContent = event.label; what.appendChild(strong);
    if (event.summary) { var sum = document.createElement("div"); sum.className = "muted small"; sum.textContent = event.summary; what.appendChild(sum); }
    tr.appendChild(cell(what));
    tr.appendChild(cell(event.subject, "mono"));
    tr.appendChild(cell(link("/cases/" + encodeURIComponent(event.caseid) + "/timeline", event.caseid), "mono"));
    tr.appendChild(cell(event.compound || "—"));
    tr.appendChild(cell(event.actor, "small muted"));
    body.insertBefore(tr, body.firstChild);
    while (body.children.length > 200) { body.removeChild(body.lastChild); }
  }

  function refreshFragment(url) {
    fetch(url, { headers: { "Accept": "text/html" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        var target = document.getElementById("live-rows");
        if (html == null || !target) { return; }
        var holder = document.createElement("tbody");
        holder.innerHTML = html;
        var count = holder.querySelector("[data-count]");
        var label = document.getElementById("live-count");
        if (count && label) { label.textContent = count.getAttribute("data-count"); }
        target.replaceChildren.apply(target, Array.prototype.slice.call(holder.childNodes));
      });
  }

  function reloadRegions() {
    fetch(window.location.href, { headers: { "Accept": "text/html" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (html == null) { return; }
        var page = new DOMParser().parseFromString(html, "text/html");
        document.querySelectorAll("[data-live-region]").forEach(function (region) {
          var fresh = page.getElementById(region.id);
          if (fresh) { region.replaceWith(fresh); }
        });
        var version = document.querySelector("[data-version]");
        if (version) {
          document.querySelectorAll("input[name=if_match]").forEach(function (input) {
            input.value = version.getAttribute("data-version");
          });
        }
      });
  }

  function connect() {
    var source = new EventSource("/live/stream?" + main.getAttribute("data-live-query"));
    source.onopen = function () { if (dot) { dot.classList.add("on"); dot.title = dot.getAttribute("data-on"); } };
    source.onerror = function () { if (dot) { dot.classList.remove("on"); dot.title = dot.getAttribute("data-off"); } };
    source.addEventListener("console-event", function (message) {
      var event = JSON.parse(message.data);
      if (main.hasAttribute("data-live-feed")) { prependEvent(event); }
      if (main.hasAttribute("data-live-refresh")) {
        later(function () { refreshFragment(main.getAttribute("data-live-refresh")); }, 150);
      }
      if (main.hasAttribute("data-live-reload")) { later(reloadRegions, 250); }
    });
  }
  connect();

})();
