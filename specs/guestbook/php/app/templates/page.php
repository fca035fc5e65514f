<?php
// hardspec guestbook — main page. Every dynamic value goes through h().
declare(strict_types=1);

use function Guestbook\h;

/** @var list<array{id:int, username:string, suggestion:string, created_at:string}> $entries */
/** @var list<string> $errors */
/** @var array{username:string, suggestion:string} $old */
/** @var bool $posted */
/** @var string $token */
/** @var int $usernameMax */
/** @var int $suggestionMax */
?>
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Guestbook</title>
<link rel="stylesheet" href="/static/style.css">
</head>
<body>
<main>
<h1>Guestbook</h1>
<?php if ($posted): ?>
<p class="notice">Thank you, your suggestion was added.</p>
<?php endif; ?>
<?php if ($errors !== []): ?>
<ul class="errors">
<?php foreach ($errors as $error): ?>
<li><?= h($error) ?></li>
<?php endforeach; ?>
</ul>
<?php endif; ?>
<form method="post" action="/">
<input type="hidden" name="csrf_token" value="<?= h($token) ?>">
<label for="username">Name</label>
<input id="username" name="username" type="text" required maxlength="<?= h((string) $usernameMax) ?>" autocomplete="nickname" value="<?= h($old['username']) ?>">
<label for="suggestion">Suggestion</label>
<textarea id="suggestion" name="suggestion" required rows="4" maxlength="<?= h((string) $suggestionMax) ?>"><?= h($old['suggestion']) ?></textarea>
<button type="submit">Add to the guestbook</button>
</form>
<h2>Entries</h2>
<?php if ($entries === []): ?>
<p class="empty">No entries yet.</p>
<?php else: ?>
<ol class="entries">
<?php foreach ($entries as $entry): ?>
<li>
<p class="meta"><strong><?= h($entry['username']) ?></strong> <time datetime="<?= h(str_replace(' ', 'T', (string) $entry['created_at']) . 'Z') ?>"><?= h((string) $entry['created_at']) ?> UTC</time></p>
<p class="text"><?= h($entry['suggestion']) ?></p>
</li>
<?php endforeach; ?>
</ol>
<?php endif; ?>
</main>
</body>
</html>
