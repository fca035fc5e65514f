<?php
// hardspec guestbook — error page (403, 405, 500, 503): a fixed text, never exception details.
declare(strict_types=1);

use function Guestbook\h;

/** @var string $title */
/** @var string $message */
?>
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title><?= h($title) ?></title>
<link rel="stylesheet" href="/static/style.css">
</head>
<body>
<main>
<h1><?= h($title) ?></h1>
<p><?= h($message) ?></p>
<p><a href="/">Back to the guestbook</a></p>
</main>
</body>
</html>
