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

// A member's own marks without a reload: Save / Saved, "Not interested" (the card collapses to one
// line, "Hidden · Undo") and its Undo, Follow / Following. The same forms post and redirect back
// without JavaScript (web/personal.py); here they are sent as a form with Accept: application/json
// and the CSRF token in the x-csrftoken header, and the page is updated from the answer.
(function () {
  function post(form) {
    var field = form.querySelector('input[name="csrftoken"]');
    return fetch(form.action, {
      method: "POST",
      headers: { Accept: "application/json", "x-csrftoken": field ? field.value : "" },
      body: new URLSearchParams(new FormData(form)),
      credentials: "same-origin",
    }).then(function (response) {
      if (!response.ok) throw new Error("HTTP " + response.status);
      return response.json();
    });
  }

  function press(button, on) {
    button.classList.toggle("on", on);
    button.setAttribute("aria-pressed", on ? "true" : "false");
  }

  function showSaved(form, saved) {
    var button = form.querySelector("button");
    press(button, saved);
    button.textContent = saved ? "Saved" : "Save";
    button.title = saved ? "In your library: take it out of Saved" : "Save to your library";
    form.action = form.action.replace(/\/(save|unsave)$/, saved ? "/unsave" : "/save");
  }

  function showDismissed(form, dismissed) {
    var button = form.querySelector("button");
    press(button, dismissed);
    button.textContent = dismissed ? "Hidden · Undo" : "Not interested";
    button.title = dismissed ? "Hidden from your feeds: show it again" : "Hide it from your feeds; your recommendations learn from it";
    form.action = form.action.replace(/\/(dismiss|undismiss)$/, dismissed ? "/undismiss" : "/dismiss");
    var card = form.closest(".card");
    if (!card) return;
    var line = card.querySelector(".collapsed-line");
    if (dismissed && !line) {
      line = document.createElement("p");
      line.className = "collapsed-line";
      var label = document.createElement("span");
      label.textContent = "Hidden";
      var undo = document.createElement("button");
      undo.type = "button";
      undo.className = "link undo-button";
      undo.textContent = "Undo";
      undo.addEventListener("click", function () { form.requestSubmit(); });
      line.appendChild(label);
      line.appendChild(document.createTextNode(" · "));
      line.appendChild(undo);
      card.insertBefore(line, card.firstChild);
      card.classList.add("collapsed");
    } else if (!dismissed && line) {
      line.remove();
      card.classList.remove("collapsed");
    }
    card.classList.toggle("dismissed", dismissed);
  }

  function showFollowing(form, following) {
    var button = form.querySelector("button");
    var what = button.getAttribute("data-what");
    press(button, following);
    button.textContent = (following ? "Following" : "Follow") + (what ? " " + what : "");
    form.action = form.action.replace(/\/(follow|unfollow)$/, following ? "/unfollow" : "/follow");
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.classList) return;
    var kind = form.classList.contains("save-form") ? "save"
      : form.classList.contains("dismiss-form") ? "dismiss"
      : form.classList.contains("follow-form") ? "follow" : null;
    if (!kind) return;
    event.preventDefault();
    var button = form.querySelector("button");
    button.disabled = true;
    post(form)
      .then(function (data) {
        if (kind === "save") showSaved(form, data.saved);
        else if (kind === "dismiss") showDismissed(form, data.dismissed);
        else showFollowing(form, data.following);
      })
      .catch(function () {
        form.submit(); // fall back to the plain form post
      })
      .finally(function () {
        button.disabled = false;
      });
  });

  // The taste import: a chosen file's text goes into the form's text field, posted as usual.
  document.querySelectorAll("input.taste-file").forEach(function (input) {
    input.hidden = false;
    input.addEventListener("change", function () {
      var file = input.files && input.files[0];
      var text = input.form.querySelector("textarea[name=taste]");
      if (!file || !text) return;
      file.text().then(function (content) { text.value = content; });
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
