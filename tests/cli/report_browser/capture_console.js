// Injected first into <head> by inject.py: records every console.error / console.warn call,
// uncaught exception and unhandled promise rejection of the page into window.__nlConsole, which
// measure_charts.js writes into the DOM for check_dom.py.
(function () {
  'use strict';
  const log = (window.__nlConsole = []);
  for (const level of ['error', 'warn']) {
    const orig = console[level].bind(console);
    console[level] = function () {
      log.push(level + ': ' + Array.from(arguments).map(String).join(' '));
      orig.apply(null, arguments);
    };
  }
  window.addEventListener('error', (e) => log.push('uncaught: ' + e.message + ' (line ' + e.lineno + ')'));
  window.addEventListener('unhandledrejection', (e) => log.push('unhandled rejection: ' + e.reason));
})();
