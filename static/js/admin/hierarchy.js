/* The hierarchy page: indent each customer by its depth. Set through the DOM, not a style="" attribute,
 * which the Content-Security-Policy refuses. */
'use strict';
document.querySelectorAll('#hierarchy td[data-indent]').forEach(function (cell) {
    cell.style.paddingLeft = cell.dataset.indent + 'px';
});
