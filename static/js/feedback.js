// Progressive enhancement of feedback on an answer (templates/feedback/form.html). Without it
// the form works as it is: radio buttons, a plain list of every encyclopedia entry, and a file
// field for the photo again.
//
// With it:
// - a search box filters the list of species and breeds as you type;
// - choosing an entry answers "No, it's a…" by itself;
// - the photo travels with the answer: on the identify page the chosen file is put aside in
//   this browser's IndexedDB when the form is sent, and the result page puts it back into the
//   feedback form (then forgets it), so nobody has to choose the same file twice. The server
//   never kept it; it checks that the file's hash is the one it identified.
(function () {
  "use strict";
  var DB = "catsite-feedback", STORE = "photos", KEY = "last-identified";

  function openDb() {
    return new Promise(function (resolve, reject) {
      if (!window.indexedDB) { reject(new Error("no IndexedDB")); return; }
      var request = indexedDB.open(DB, 1);
      request.onupgradeneeded = function () { request.result.createObjectStore(STORE); };
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { reject(request.error); };
    });
  }

  function withStore(mode, action) {
    return openDb().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction(STORE, mode);
        var result = action(tx.objectStore(STORE));
        tx.oncomplete = function () { db.close(); resolve(result && result.result); };
        tx.onerror = tx.onabort = function () { db.close(); reject(tx.error); };
      });
    });
  }

  // On the identify page: keep the photo being sent, for the feedback form on the result.
  var identifyForm = document.getElementById("identify-form");
  if (identifyForm) {
    identifyForm.addEventListener("submit", function (event) {
      var input = identifyForm.querySelector('input[name="image"]');
      var file = input && input.files[0];
      if (event.defaultPrevented || !file) return;  // identify.js refused it (too large)
      event.preventDefault();
      var sent = false;
      function send() { if (!sent) { sent = true; identifyForm.submit(); } }
      // Storage must never hold the upload back: send after a second whatever happens.
      window.setTimeout(send, 1000);
      withStore("readwrite", function (store) {
        return store.put({file: file, name: file.name, type: file.type}, KEY);
      }).then(send, send);
    });
  }

  var form = document.getElementById("feedback-form");
  if (!form) return;
  form.querySelectorAll(".js-only").forEach(function (el) { el.hidden = false; });

  var select = form.querySelector('select[name="species"]');
  var search = document.getElementById("species-search");
  var status = document.getElementById("species-search-status");
  var no = form.querySelector('input[name="correct"][value="false"]');
  var share = form.querySelector('input[name="share_photo"]');
  var photoAgain = document.getElementById("photo-again");
  var photoInput = form.querySelector('input[name="image"]');
  var carried = document.getElementById("photo-carried");
  var photoCarried = false;

  // Search: hide the entries that do not match; keep "Choose…" and "Not a cat" always.
  select.size = 8;
  function normalise(text) {
    return text.toLowerCase().normalize("NFD").replace(/[\u0300-\u036f]/g, "");
  }
  search.addEventListener("input", function () {
    var words = normalise(search.value).split(/\s+/).filter(Boolean);
    var shown = 0, first = null;
    select.querySelectorAll("option").forEach(function (option) {
      var always = !option.value || option.value === "not-a-cat";
      // Every word typed starts a word of the entry ("lynx" finds all four lynxes; "iberian"
      // finds the Iberian lynx, not the Siberian).
      var names = normalise(option.textContent + " " + option.value).split(/[^a-z0-9]+/);
      var match = always || words.every(function (w) {
        return names.some(function (name) { return name.indexOf(w) === 0; });
      });
      option.hidden = !match;
      if (match && !always) { shown += 1; if (!first) first = option; }
    });
    select.querySelectorAll("optgroup").forEach(function (group) {
      group.hidden = !group.querySelector("option:not([hidden])");
    });
    if (words.length) {
      status.textContent = shown === 1 ? "1 match: " + first.textContent :
        shown + " matches" + (first ? ", first " + first.textContent : "");
      // Searching means looking for an entry: take the first match unless one is chosen.
      var current = select.options[select.selectedIndex];
      if (first && (!current || current.hidden || !current.value || current.value === "not-a-cat")) {
        first.selected = true;
        no.checked = true;
      }
    } else {
      status.textContent = "";
    }
  });
  select.addEventListener("change", function () { if (select.value) no.checked = true; });
  // Back after an error with an entry chosen: a list box opens at its top, so bring the chosen
  // entry into view and say which one it is.
  var chosen = select.options[select.selectedIndex];
  if (chosen && chosen.value) {
    select.scrollTop = Math.max(0, chosen.offsetTop - select.clientHeight / 2);
    status.textContent = "Chosen: " + chosen.textContent;
  }

  // The photo again: only asked for when it is needed and did not travel by itself.
  function showPhotoField() {
    photoAgain.hidden = photoCarried || !share.checked;
    carried.textContent = photoCarried
      ? (share.checked ? "Your photo will be sent again with your answer."
        : "Your photo is sent again with your answer only if you tick the box.")
      : "";
    carried.hidden = !photoCarried;
  }
  share.addEventListener("change", showPhotoField);
  showPhotoField();

  // Only a photo with the identified hash is put back (crypto.subtle needs a secure context:
  // HTTPS or localhost; elsewhere the server's own check decides).
  function sameHash(file) {
    var expected = form.getAttribute("data-photo-sha256");
    if (!expected || !(window.crypto && crypto.subtle)) return Promise.resolve(true);
    return file.arrayBuffer().then(function (bytes) {
      return crypto.subtle.digest("SHA-256", bytes);
    }).then(function (digest) {
      var hex = Array.prototype.map.call(new Uint8Array(digest), function (b) {
        return ("0" + b.toString(16)).slice(-2);
      }).join("");
      return hex === expected;
    });
  }

  withStore("readonly", function (store) { return store.get(KEY); }).then(function (kept) {
    if (!kept || !kept.file) return;
    return sameHash(kept.file).then(function (same) {
      if (!same) return;
      var file = new File([kept.file], kept.name || "photo", {type: kept.type || kept.file.type});
      var transfer = new DataTransfer();
      transfer.items.add(file);
      photoInput.files = transfer.files;
      photoInput.dispatchEvent(new Event("change"));  // its name beside the photo button
      photoCarried = true;
      showPhotoField();
    });
  }).catch(function () { /* no storage: the file field stays */ }).then(function () {
    // Forget it either way: the photo stays in this browser no longer than the result page.
    return withStore("readwrite", function (store) { return store.delete(KEY); });
  }).catch(function () {});

  form.addEventListener("submit", function () {
    if (!share.checked) photoInput.value = "";  // without consent the photo is not even sent
    form.setAttribute("aria-busy", "true");
  });
})();
