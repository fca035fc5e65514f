<?php
// hardspec guestbook — the single entry point (nginx sends only "/" here).
declare(strict_types=1);

require __DIR__ . '/lib/guestbook.php';

Guestbook\main();
