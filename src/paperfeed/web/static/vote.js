// Upvote without leaving the page: send the vote form with fetch and update the button.
// Without JavaScript the form posts and the server sends the reader back to the same page.
document.addEventListener("submit", function (event) {
  var form = event.target;
  if (!form.classList || !form.classList.contains("vote")) return;
  event.preventDefault();
  var button = form.querySelector("button");
  button.disabled = true;
  fetch(form.action, {
    method: "POST",
    body: new FormData(form),
    headers: { Accept: "application/json" },
    credentials: "same-origin",
  })
    .then(function (response) {
      if (!response.ok) throw new Error("vote failed");
      return response.json();
    })
    .then(function (answer) {
      form.querySelector(".count").textContent = answer.upvotes;
      form.querySelector("input[name=on]").value = answer.voted ? "0" : "1";
      button.classList.toggle("voted", answer.voted);
      button.setAttribute("aria-pressed", answer.voted ? "true" : "false");
      button.title = answer.voted ? "Take back your upvote" : "Upvote";
    })
    .catch(function () {
      form.submit(); // fall back to the plain form
    })
    .finally(function () {
      button.disabled = false;
    });
});
