# The Lua specs (tests/spec and every examples/*/spec) under busted, as TAP,
# so that `make check` counts them with everything else. `make spec` runs
# the same specs with busted's own output.
use v5.36;
use FindBin;
chdir "$FindBin::Bin/../.." or die "chdir: $!";
my @dirs = ('tests/spec', glob('examples/*/spec'));
$ENV{LUA_PATH} = 'lua/?.lua;lua/?/init.lua;' . ($ENV{LUA_PATH} // ';');
{ no warnings 'exec'; exec('busted', '--lua=luajit', '-o', 'TAP', @dirs); }
print "Bail out! busted not found: install the Debian package lua-busted\n";
exit 1;
