(function () {
  "use strict";
  // Filters the transcript cards. Reads only data-* attributes and select values, and only
  // toggles `hidden` and sets a count with textContent: it never builds markup.
  var selects = ["f-model", "f-condition", "f-outcome"].map(function (id) {
    return document.getElementById(id);
  });
  var count = document.getElementById("f-count");
  var cards = document.querySelectorAll("article.card");

  function apply() {
    var model = selects[0] ? selects[0].value : "";
    var condition = selects[1] ? selects[1].value : "";
    var outcome = selects[2] ? selects[2].value : "";
    var shown = 0;
    for (var i = 0; i < cards.length; i++) {
      var d = cards[i].dataset;
      var ok = (!model || d.model === model) && (!condition || d.condition === condition);
      if (ok && outcome === "@excluded") {
        ok = d.excluded !== "";
      } else if (ok && outcome) {
        ok = (" " + d.outcomes + " ").indexOf(" " + outcome + " ") !== -1;
      }
      cards[i].hidden = !ok;
      if (ok) {
        shown++;
      }
    }
    if (count) {
      count.textContent = String(shown);
    }
  }

  selects.forEach(function (s) {
    if (s) {
      s.addEventListener("change", apply);
    }
  });
  apply();
  document.body.setAttribute("data-ready", "1");
})();
