/* Live click counters on the campaign page: connects to /ws/live with the session,
   subscribes to the element's [data-live-channel], and on each "click" event of the
   day the page counts (data-live-date) sets every [data-live-clicks] counter to the
   range's clicks before today plus today's clicks from the event. Without a socket
   (no ASGI server, a proxy that refuses the upgrade) the page keeps the figures it was
   rendered with: a few quiet retries, then nothing. */
(function () {
  "use strict";

  var RETRIES = 5;
  var root = document.querySelector("[data-live-channel]");
  if (!root || !("WebSocket" in window)) {
    return;
  }
  var channel = root.dataset.liveChannel;
  var counters = Array.prototype.slice.call(root.querySelectorAll("[data-live-clicks]"));
  var format = new Intl.NumberFormat("en-US");
  var failures = 0;

  function update(data) {
    if (data.date !== root.dataset.liveDate) {
      return; // another day than the one the range ends with
    }
    counters.forEach(function (counter) {
      var before = Number(counter.dataset.liveClicks) - Number(counter.dataset.liveToday);
      counter.textContent = format.format(before + data.clicks);
    });
  }

  function connect() {
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    var socket = new WebSocket(scheme + window.location.host + "/ws/live");
    socket.addEventListener("open", function () {
      socket.send(JSON.stringify({ subscribe: channel }));
    });
    socket.addEventListener("message", function (event) {
      var message;
      try {
        message = JSON.parse(event.data);
      } catch (error) {
        return;
      }
      if (message.subscribed) {
        failures = 0;
        root.dataset.liveState = "subscribed";
      } else if (message.channel === channel && message.event === "click" && message.data) {
        update(message.data);
      }
    });
    socket.addEventListener("close", function () {
      delete root.dataset.liveState;
      failures += 1;
      if (failures <= RETRIES) {
        window.setTimeout(connect, 2000 * Math.pow(2, failures - 1));
      }
    });
  }

  connect();
})();
