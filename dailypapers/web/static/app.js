// Progressive enhancement: upvote without reloading the page. Without JavaScript the same forms
// post and redirect back.
(function () {
  function csrfToken(form) {
    var field = form.querySelector('input[name="csrftoken"]');
    return field ? field.value : "";
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.classList || !form.classList.contains("vote-form")) return;
    event.preventDefault();
    var button = form.querySelector("button");
    button.disabled = true;
    fetch(form.action, {
      method: "POST",
      headers: { Accept: "application/json", "x-csrftoken": csrfToken(form) },
      credentials: "same-origin",
    })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      })
      .then(function (data) {
        var on = data.upvoted;
        button.classList.toggle("on", on);
        button.setAttribute("aria-pressed", on ? "true" : "false");
        button.title = on ? "Remove your upvote" : "Upvote";
        // hf_votes 'apart': the button shows the site's own votes, HF's are beside it.
        var imported = parseInt(form.closest(".vote").getAttribute("data-imported") || "0", 10);
        button.querySelector(".count").textContent = data.upvotes - imported;
        button.querySelector(".sr").textContent = on ? "Remove upvote" : "Upvote";
        form.action = form.action.replace(/\/(upvote|unvote)$/, on ? "/unvote" : "/upvote");
      })
      .catch(function () {
        form.submit(); // fall back to the plain form post
      })
      .finally(function () {
        button.disabled = false;
      });
  });
})();

// The library (issue 15): the Cite box's Copy button (hidden without JavaScript, where the BibTeX
// is there to select).
(function () {
  var buttons = document.querySelectorAll(".copy-button[data-copy]");
  Array.prototype.forEach.call(buttons, function (button) {
    var source = document.getElementById(button.getAttribute("data-copy"));
    if (!source || !navigator.clipboard) return;
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(source.textContent).then(
        function () {
          button.textContent = "Copied";
          setTimeout(function () { button.textContent = "Copy"; }, 2000);
        },
        function () {
          var range = document.createRange();
          range.selectNodeContents(source);
          var selection = window.getSelection();
          selection.removeAllRanges();
          selection.addRange(range);
        }
      );
    });
  });
})();
