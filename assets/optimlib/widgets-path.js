/*
 * Point the widget manager (vendor/html-manager/embed-amd.js) at its own
 * folder before it loads. It takes the URL of its Font Awesome files from its
 * AMD module URI, which require.js resolves against the page's folder, so
 * without this a chapter requests them from
 * chapters/@jupyter-widgets/html-manager/dist/ and gets 404s.
 */
(function () {
  "use strict";

  var folder = new URL("../vendor/html-manager/", document.currentScript.src).href;
  window.require.config({
    paths: { "@jupyter-widgets/html-manager/dist": folder.slice(0, -1) },
  });
})();
