/* Back-office document forms (invoice lines, sales orders, credit notes, subscriptions).
 *
 * The rate and discount fields start empty: empty means the customer's effective value (its own, else its
 * group's, else the organisation default). As soon as an item is picked, this asks the staff-only endpoint
 * named in the item select's data-effective-url for those values and shows them as the fields'
 * placeholders and in a note next to the item. Only a hint: the server prices the document again on save.
 * Loaded from a static file through the form's Media (no inline script: the pages get a CSP).
 */
'use strict';
(function () {
    function customerOf(select) {
        if (select.dataset.customer) {
            return select.dataset.customer;
        }
        const chosen = document.getElementById('id_customer');
        return chosen ? chosen.value : '';
    }

    function partner(select, name) {
        // id_lines-0-item -> id_lines-0-rate; id_item -> id_price
        return name ? document.getElementById(select.id.replace(/item$/, name)) : null;
    }

    function noteFor(select) {
        const id = select.id + '-effective';
        let note = document.getElementById(id);
        if (!note) {
            note = document.createElement('div');
            note.id = id;
            note.className = 'help effective-terms';
            note.setAttribute('aria-live', 'polite');
            const cell = select.closest('td') || select.parentNode;
            cell.appendChild(note);
        }
        return note;
    }

    function show(select) {
        const customer = customerOf(select);
        const item = select.value;
        const note = noteFor(select);
        if (!customer || !item) {
            note.textContent = '';
            return;
        }
        const url = select.dataset.effectiveUrl + '?' + new URLSearchParams({customer: customer, item: item});
        fetch(url, {credentials: 'same-origin', headers: {Accept: 'application/json'}})
            .then(function (response) {
                return response.ok ? response.json() : Promise.reject(response.status);
            })
            .then(function (data) {
                const rate = partner(select, select.dataset.rateField);
                const discount = partner(select, select.dataset.discountField);
                if (rate && data.rate !== null) {
                    rate.placeholder = data.rate;
                }
                if (discount) {
                    discount.placeholder = data.discount_percent;
                }
                note.textContent = data.summary;
            })
            .catch(function () {
                note.textContent = '';
            });
    }

    function changed(target) {
        if (!target || !target.matches) {
            return;
        }
        if (target.matches('select[data-effective-url]')) {
            show(target);
        } else if (target.id === 'id_customer') {
            document.querySelectorAll('select[data-effective-url]').forEach(function (select) {
                if (select.value) {
                    show(select);
                }
            });
        }
    }

    // The admin's autocomplete (select2) announces a choice with a jQuery event, which native listeners
    // don't see; django.jQuery's handler sees both, so use it when the admin loaded it (by the time the
    // document is parsed: the form's Media may place this file before jquery.init.js).
    function listen() {
        if (window.django && window.django.jQuery) {
            window.django.jQuery(document).on('change', 'select', function (event) {
                changed(event.target);
            });
        } else {
            document.addEventListener('change', function (event) {
                changed(event.target);
            });
        }
    }

    if (document.readyState === 'loading') {
        document.addEventListener('DOMContentLoaded', listen);
    } else {
        listen();
    }
})();
