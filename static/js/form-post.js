// response_mode=form_post: send the authorization response to the app at once.
document.getElementById("form-post-response").submit();
