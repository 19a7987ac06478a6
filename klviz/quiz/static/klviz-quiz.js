/* Self-check questions of the book (klviz.quiz.web): grade an answer in the browser.
   The rule is klviz.quiz.questions.grade's: a number within the tolerance, or the right option.
   No request leaves the page; math in the questions is typeset by the page's own MathJax. */
(function () {
  "use strict";
  if (window.klvizQuiz) return;
  var NUMBER = "[-+]?(?:\\d+\\.?\\d*|\\.\\d+)(?:[eE][-+]?\\d+)?";
  var TYPED = new RegExp("^(" + NUMBER + ")(?:\\s*/\\s*(" + NUMBER + "))?$");
  var EDGE = 1e-9;
  var SAY = {
    right: "Right.",
    wrong: "Not quite. Try again.",
    numeric: "Type a number, e.g. 0.25 or 1/4.",
    choice: "Pick an option first."
  };

  function parseNumber(typed) {
    var s = typed.trim().replace(/\u2212/g, "-");
    if (s.indexOf(",") >= 0 && s.indexOf(".") < 0) s = s.replace(/,/g, ".");
    var m = TYPED.exec(s);
    if (!m) return null;
    var x = parseFloat(m[1]);
    if (m[2] !== undefined) {
      var d = parseFloat(m[2]);
      if (d === 0) return null;
      x /= d;
    }
    return isFinite(x) ? x : null;
  }

  function grade(q) {
    var key = JSON.parse(atob(q.getAttribute("data-key")));
    var kind = q.getAttribute("data-kind");
    var verdict;
    if (kind === "numeric") {
      var x = parseNumber(q.querySelector(".klviz-quiz-input").value);
      verdict = x === null ? "invalid" : Math.abs(x - key.v) <= key.t * (1 + EDGE) ? "right" : "wrong";
    } else {
      var picked = q.querySelector("input[type=radio]:checked");
      verdict = !picked ? "invalid" : Number(picked.value) === key.a ? "right" : "wrong";
    }
    var feedback = q.querySelector(".klviz-quiz-feedback");
    feedback.className = "klviz-quiz-feedback klviz-quiz-" + verdict;
    feedback.textContent = verdict === "invalid" ? SAY[kind] : SAY[verdict];
    q.querySelector(".klviz-quiz-hint").hidden = verdict !== "wrong";
    q.setAttribute("data-verdict", verdict);
    return verdict;
  }

  function question(el) {
    return el && el.closest ? el.closest(".klviz-quiz-q") : null;
  }

  document.addEventListener("click", function (e) {
    if (e.target.closest && e.target.closest(".klviz-quiz-check")) grade(question(e.target));
  });
  document.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && e.target.classList && e.target.classList.contains("klviz-quiz-input")) {
      e.preventDefault();
      grade(question(e.target));
    }
  });
  window.klvizQuiz = {grade: grade, parseNumber: parseNumber};
})();
