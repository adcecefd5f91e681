/* The embed card tells the page around it how tall it is, so embed.js can size the
   iframe to the card (no clipped lines, no empty space); again whenever it changes. */
(function () {
  if (window.parent === window) return;
  var last = 0;
  function tell() {
    var height = Math.ceil(document.documentElement.getBoundingClientRect().height);
    if (height === last) return;
    last = height;
    window.parent.postMessage({ type: "yibao-embed-height", href: location.href, height: height }, "*");
  }
  window.addEventListener("load", tell);
  window.addEventListener("resize", tell);
  if (window.ResizeObserver) new ResizeObserver(tell).observe(document.documentElement);
  tell();
})();
