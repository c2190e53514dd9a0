// ratchetproof report: sorting and the drill-down drawer. The page is
// complete without this script; it only reorders rows and shows case
// details that are already on the page (#cases). Works from file://.
(function () {
  'use strict';
  function value(cell) {
    if (!cell) return '';
    var v = cell.getAttribute('data-v');
    if (v !== null && v !== '' && !isNaN(Number(v))) return Number(v);
    return (v !== null ? v : cell.textContent).trim().toLowerCase();
  }
  function sortBy(th) {
    var table = th.closest('table');
    var col = Number(th.getAttribute('data-col'));
    var desc = !th.classList.contains('sorted-desc');
    table.querySelectorAll('th.sorted-asc, th.sorted-desc').forEach(function (h) {
      h.classList.remove('sorted-asc', 'sorted-desc');
    });
    th.classList.add(desc ? 'sorted-desc' : 'sorted-asc');
    var bodies = table.tBodies;
    var body = bodies[bodies.length - 1];
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = value(a.cells[col]), y = value(b.cells[col]);
      var c = (typeof x === 'number' && typeof y === 'number') ? x - y : String(x).localeCompare(String(y));
      return desc ? -c : c;
    });
    rows.forEach(function (r) { body.appendChild(r); });
  }
  document.querySelectorAll('table.sortable th[data-col]').forEach(function (th) {
    th.addEventListener('click', function () { sortBy(th); });
  });

  var drawer = document.getElementById('drill');
  var title = document.getElementById('drill-title');
  var meta = document.getElementById('drill-meta');
  var body = document.getElementById('drill-body');
  function runName(run) {
    var row = document.getElementById('run-' + run);
    if (!row) return 'run ' + run;
    return row.cells[0].getAttribute('data-v') + ' · ' + row.cells[1].textContent;
  }
  function open(spec) {
    var parts = spec.split('/');
    if (parts.length !== 3) return null;
    var run = parts[0], suite = parts[1], flag = parts[2];
    var cases = Array.prototype.filter.call(
      document.querySelectorAll('#cases article[data-run="' + run + '"]'),
      function (a) {
        return (suite === '*' || a.getAttribute('data-suite') === suite) &&
          (flag === '*' || a.getAttribute('data-flags').indexOf(' ' + flag + ' ') >= 0);
      });
    title.textContent = runName(run);
    var what = flag === '*' ? (suite === '*' ? 'every suite' : decodeURIComponent(suite))
      : decodeURIComponent(flag) + ' (' + decodeURIComponent(suite) + ')';
    meta.textContent = cases.length + ' case' + (cases.length === 1 ? '' : 's') +
      ' not passing · ' + what;
    var row = flag === '*' ? null :
      document.querySelector('tr[data-suite="' + suite + '"][data-flag="' + flag + '"] .note');
    if (row) meta.textContent += ': ' + row.textContent;
    body.textContent = '';
    cases.forEach(function (a) {
      var copy = a.cloneNode(true);
      copy.removeAttribute('id');
      body.appendChild(copy);
    });
    drawer.hidden = false;
    drawer.scrollTop = 0;
    document.querySelectorAll('td.current').forEach(function (td) { td.classList.remove('current'); });
    var link = document.querySelector('a.drill[data-drill="' + spec + '"]');
    var cell = link && link.closest('td');
    if (cell) cell.classList.add('current');
    return cell;
  }
  function fromHash(scroll) {
    var h = location.hash || '';
    if (h.indexOf('#drill=') !== 0) { drawer.hidden = true; return; }
    var cell = open(h.slice('#drill='.length));
    // A shared link to a drill-down shows its cell in its matrix, too.
    if (scroll && cell && cell.scrollIntoView) cell.scrollIntoView({ block: 'center', inline: 'nearest' });
  }
  window.addEventListener('hashchange', function () { fromHash(false); });
  document.addEventListener('keydown', function (e) {
    if (e.key === 'Escape' && !drawer.hidden) { location.hash = ''; drawer.hidden = true; }
  });
  fromHash(true);
})();
