(function () {
  'use strict';

  // Copy through a selected, off-screen textarea: works where the asynchronous clipboard
  // is missing or refused (pages opened from file://, older browsers).
  function copyBySelection(content) {
    var area = document.createElement('textarea');
    area.value = content;
    area.setAttribute('readonly', '');
    area.className = 'offscreen';
    document.body.appendChild(area);
    area.focus();
    area.select();
    area.setSelectionRange(0, content.length);
    var done = false;
    try {
      done = document.execCommand('copy');
    } catch (e) {
      done = false;
    }
    document.body.removeChild(area);
    return done;
  }

  function copyFrom(button) {
    var source = document.getElementById(button.getAttribute('data-copy'));
    if (!source) {
      return;
    }
    var content = source.textContent;
    var status = button.parentNode.querySelector('.copy-status');
    function report(done) {
      button.setAttribute('data-copied', done ? 'yes' : 'no');
      if (status) {
        status.textContent = done ? 'Copied to the clipboard.' : 'Could not copy: select the script and press Ctrl+C.';
      }
    }
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(content).then(function () {
        report(true);
      }, function () {
        report(copyBySelection(content));
      });
    } else {
      report(copyBySelection(content));
    }
  }

  function setFolds(open) {
    var folds = document.querySelectorAll('details.fold');
    for (var i = 0; i < folds.length; i++) {
      folds[i].open = open;
    }
  }

  // Open the folded attempt or block a link points into, and mark the target.
  function reveal() {
    var name = decodeURIComponent(location.hash.slice(1));
    if (!name) {
      return;
    }
    var target = document.getElementById(name);
    if (!target) {
      return;
    }
    for (var p = target.parentElement; p; p = p.parentElement) {
      if (p.tagName === 'DETAILS') {
        p.open = true;
      }
    }
    var old = document.querySelectorAll('.hit');
    for (var i = 0; i < old.length; i++) {
      old[i].classList.remove('hit');
    }
    target.classList.add('hit');
    target.scrollIntoView();
  }

  document.addEventListener('click', function (event) {
    var el = event.target;
    if (!(el instanceof Element)) {
      return;
    }
    var button = el.closest('button');
    if (!button) {
      return;
    }
    if (button.hasAttribute('data-copy')) {
      copyFrom(button);
    } else if (button.classList.contains('expand')) {
      setFolds(true);
    } else if (button.classList.contains('collapse')) {
      setFolds(false);
    }
  });
  window.addEventListener('hashchange', reveal);
  reveal();
})();
