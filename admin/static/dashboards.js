// Draws each dashboard figure from the JSON block named by its data-figure attribute. The admin
// site's CSP allows no inline script: the figures travel as data, this file draws them.
(function () {
  'use strict';
  function draw() {
    document.querySelectorAll('[data-figure]').forEach(function (node) {
      var source = document.getElementById(node.getAttribute('data-figure'));
      if (!source) return;
      var figure = JSON.parse(source.textContent);
      window.Plotly.newPlot(node, figure.data || [], figure.layout || {},
        { responsive: true, displaylogo: false, modeBarButtonsToRemove: ['sendDataToCloud'] });
    });
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', draw);
  else draw();
}());
