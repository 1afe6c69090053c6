#!/usr/bin/env perl
# Normalizes a transcript of scripts/etcd-compat.sh (a .raw file) for diffing against another
# system's: replaces what legitimately differs between two clusters with placeholders, and checks
# instead what must hold on every cluster (one leader, equal hashes on all members, ...).
#
#   perl scripts/etcd-compat/normalize.pl A-etcd.raw > A-etcd.txt
#
# Ids are replaced by labels numbered in a stable way: members by the position of their client
# endpoint (<member 1> answers on the first endpoint), leases and clusters in order of first
# appearance. Only ids in known places are replaced (JSON and "fields" attributes, etcdctl's lease
# messages, lock and election keys, member and endpoint lines), never bare numbers, so that a
# system with small ids (1, 2, 3) does not get its revisions and values rewritten. What is
# replaced, and why, is listed in scripts/etcd-compat/README.md.
use strict;
use warnings;
use MIME::Base64 qw(decode_base64);

my @lines = <>;
chomp @lines;

# --- the transcript's header and blocks -------------------------------------------------------
my (%port_label, @blocks);
for my $line (@lines) {
  if ($line =~ /^=== \d+ (.*)$/) {
    push @blocks, { title => $1, lines => [] };
  } elsif (!@blocks) {
    if ($line =~ /^# endpoints: (.*)/) {
      my $i = 0;
      for my $ep (split ' ', $1) { $i++; $port_label{$1} = "<client $i>" if $ep =~ /:(\d+)$/; }
    } elsif ($line =~ /^# peers: (.*)/) {
      my $i = 0;
      for my $url (split ' ', $1) { $i++; $port_label{$1} = "<peer $i>" if $url =~ /:(\d+)$/; }
    }
  } else {
    push @{ $blocks[-1]{lines} }, $line;
  }
}

sub canon_hex { my $h = lc shift; $h =~ s/^0+(?=.)//; return $h; }
sub canon_dec { return sprintf('%x', shift); }

# Members: from the first "member list -w json" (client URL -> position, id, name) and the first
# "endpoint status -w json" (endpoint -> the id of the member answering there).
my (%member, %name);
sub endpoint_index {
  my ($text) = @_;
  return $1 if $text =~ /(?:https?:\/\/)?127\.0\.0\.1:(\d+)/ && ($port_label{$1} // '') =~ /^<client (\d+)>$/;
  return undef;
}
for my $b (@blocks) {
  my $out = join "\n", @{ $b->{lines} };
  if ($b->{title} =~ /member list -w json$/ && !%name) {
    for my $m ($out =~ /(\{"ID":\d+[^{}]*\})/g) {
      my ($id) = $m =~ /"ID":(\d+)/;
      my ($n) = $m =~ /"name":"([^"]*)"/;
      my ($c) = $m =~ /"clientURLs":\[([^\]]*)\]/;
      my $i = endpoint_index($c // '');
      next unless defined $i;
      $member{canon_dec($id)} = $i;
      $name{$n} = $i if defined $n && length $n;
    }
  } elsif ($b->{title} =~ /endpoint status -w json$/) {
    while ($out =~ /\{"Endpoint":"([^"]*)","Status":\{"header":\{[^{}]*?"member_id":(\d+)/g) {
      my $i = endpoint_index($1);
      $member{canon_dec($2)} //= $i if defined $i;
    }
  }
}

my (%lease, %cluster, %unknown_member);
sub member_label {
  my $c = shift;
  return "<member $member{$c}>" if defined $member{$c};
  $unknown_member{$c} = scalar(keys %unknown_member) + 1 unless defined $unknown_member{$c};
  return "<unknown member $unknown_member{$c}>";
}
sub lease_label {
  my $c = shift;
  return '0' if $c eq '0';
  $lease{$c} = scalar(keys %lease) + 1 unless defined $lease{$c};
  return "<lease $lease{$c}>";
}
sub cluster_label {
  my $c = shift;
  $cluster{$c} = scalar(keys %cluster) + 1 unless defined $cluster{$c};
  return "<cluster $cluster{$c}>";
}
sub name_label { my $n = shift; return defined $name{$n} ? "<name $name{$n}>" : $n; }

# --- JSON arrays: sorting the elements of an array whose order is unspecified -------------------
sub close_of { # index of the bracket closing the one at $open in $s
  my ($s, $open) = @_;
  my ($depth, $in_str) = (0, 0);
  for (my $i = $open; $i < length $s; $i++) {
    my $ch = substr($s, $i, 1);
    if ($in_str) { if ($ch eq '\\') { $i++ } elsif ($ch eq '"') { $in_str = 0 } next; }
    if ($ch eq '"') { $in_str = 1 }
    elsif ($ch eq '[' || $ch eq '{') { $depth++ }
    elsif ($ch eq ']' || $ch eq '}') { $depth--; return $i if $depth == 0 }
  }
  return undef;
}
sub split_top { # the top-level elements of an array's inner text
  my ($s) = @_;
  my @parts;
  my ($depth, $in_str, $start) = (0, 0, 0);
  for (my $i = 0; $i < length $s; $i++) {
    my $ch = substr($s, $i, 1);
    if ($in_str) { if ($ch eq '\\') { $i++ } elsif ($ch eq '"') { $in_str = 0 } next; }
    if ($ch eq '"') { $in_str = 1 }
    elsif ($ch eq '[' || $ch eq '{') { $depth++ }
    elsif ($ch eq ']' || $ch eq '}') { $depth-- }
    elsif ($ch eq ',' && $depth == 0) { push @parts, substr($s, $start, $i - $start); $start = $i + 1 }
  }
  push @parts, substr($s, $start) if length $s;
  return @parts;
}
sub sort_array_at { # sorts the elements of the array opening at $open
  my ($s, $open) = @_;
  my $close = close_of($s, $open);
  return $s unless defined $close;
  my $inner = substr($s, $open + 1, $close - $open - 1);
  return substr($s, 0, $open + 1) . join(',', sort(split_top($inner))) . substr($s, $close);
}
sub sort_field_array { # sorts the array value of "field": wherever it occurs in the line
  my ($s, $field) = @_;
  my $pos = 0;
  while ((my $at = index($s, "\"$field\":[", $pos)) >= 0) {
    my $open = $at + length("\"$field\":");
    $s = sort_array_at($s, $open);
    $pos = $open + 1;
  }
  return $s;
}

# --- one line ---------------------------------------------------------------------------------
sub json_key {
  my ($b64) = @_;
  my $k = decode_base64($b64);
  return "\"key\":\"$b64\"" unless $k =~ /^(compat-(?:lock|elect)\/)([0-9a-f]{1,16})$/;
  return "\"key\":\"base64($1" . lease_label(canon_hex($2)) . ")\"";
}

sub norm_line {
  my ($l, $title, $is_title) = @_;
  my $member_ids = $title =~ /member list/;

  $l =~ s{(?:https?://)?127\.0\.0\.1:(\d+)}{ $port_label{$1} // "127.0.0.1:$1" }ge;

  # JSON attributes (etcdctl -w json) and their "fields" twins (-w fields).
  $l =~ s/"cluster_id":(\d+)/'"cluster_id":"' . cluster_label(canon_dec($1)) . '"'/ge;
  $l =~ s/"member_id":(\d+)/'"member_id":"' . member_label(canon_dec($1)) . '"'/ge;
  $l =~ s/"raft_term":\d+/"raft_term":"<term>"/g;
  $l =~ s/"lease":(\d+)/'"lease":"' . lease_label(canon_dec($1)) . '"'/ge;
  if ($member_ids) {
    $l =~ s/"ID":(\d+)/'"ID":"' . member_label(canon_dec($1)) . '"'/ge;
    $l =~ s/"name":"([^"]*)"/'"name":"' . name_label($1) . '"'/ge;
  } else {
    $l =~ s/"(ID|id)":(\d+)/"\"$1\":\"" . lease_label(canon_dec($2)) . '"'/ge;
  }
  $l =~ s/^"ClusterID" : (\d+)$/'"ClusterID" : ' . cluster_label(canon_dec($1))/e;
  $l =~ s/^"MemberID" : (\d+)$/'"MemberID" : ' . member_label(canon_dec($1))/e;
  $l =~ s/^"RaftTerm" : \d+$/"RaftTerm" : <term>/;
  $l =~ s/^"(Lease|ID)" : (\d+)$/"\"$1\" : " . lease_label(canon_dec($2))/e;

  # Keys of locks and elections in JSON (base64): their names hold the session's lease id.
  $l =~ s/"key":"([A-Za-z0-9+\/]+=*)"/json_key($1)/ge;

  # Lease ids as etcdctl prints them (%016x), in commands and stdin lines, and in the keys of
  # locks and elections (name/%x of the session's lease).
  $l =~ s/\blease ([0-9a-f]{1,16})(?= granted| keepalived| revoked| already| expired|$)/'lease ' . lease_label(canon_hex($1))/ge;
  $l =~ s/(compat-(?:lock|elect)\/)([0-9a-f]{1,16})\b/$1 . lease_label(canon_hex($2))/ge;
  if ($is_title) {
    $l =~ s/(--lease=)([0-9a-f]{1,16})\b/$1 . lease_label(canon_hex($2))/ge;
    $l =~ s/(lease (?:revoke|timetolive|keep-alive --once) )([0-9a-f]{1,16})\b/$1 . lease_label(canon_hex($2))/ge;
  }
  $l =~ s/^(< lease\("[^"]*"\) *\S+ *")([0-9a-f]{1,16})"/$1 . lease_label(canon_hex($2)) . '"'/e;

  # Time left on a lease: any value from 0 to its granted TTL is right.
  $l =~ s/granted with TTL\((\d+)s\), remaining\((\d+)s\)/"granted with TTL($1s), remaining(" . ($2 <= $1 ? '<0..TTL>' : $2) . 's)'/ge;
  $l =~ s/"TTL":(\d+),"grantedTTL":(\d+)/'"TTL":' . ($1 <= $2 ? '"<0..grantedTTL>"' : $1) . ",\"grantedTTL\":$2"/ge;
  $l =~ s/"ttl":(\d+),"granted-ttl":(\d+)/'"ttl":' . ($1 <= $2 ? '"<0..granted-ttl>"' : $1) . ",\"granted-ttl\":$2"/ge;
  $l =~ s/attached keys\(\[([^\]]*)\]\)/'attached keys([' . join(' ', sort split(' ', $1)) . '])'/ge;
  $l = sort_field_array($l, 'keys');

  # Timings.
  $l =~ s/took = \S+/took = <time>/g;
  $l =~ s/"took":"[^"]*"/"took":"<time>"/g;
  return $l;
}

# --- blocks whose content needs more than line rewriting ----------------------------------------
sub agree_line { # what, values...: one line saying whether all values are equal
  my ($what, @v) = @_;
  return "# $what: none" unless @v;
  my %seen = map { $_ => 1 } @v;
  return keys(%seen) == 1 ? "# $what: the same on all " . scalar(@v) : "# $what: DIFFER: " . join(' ', @v);
}

sub norm_block {
  my ($b) = @_;
  my $title = $b->{title};
  my @out = map { norm_line($_, $title, 0) } @{ $b->{lines} };
  my (@tail, @terms, @leaders, @hashes);
  my $sort = 0;

  if ($title =~ /etcdctl member list$/) {
    for (@out) {
      s/^([0-9a-f]+), (\w+), ([^,]*), /member_label(canon_hex($1)) . ", $2, " . name_label($3) . ', '/e;
    }
    $sort = 1;
  } elsif ($title =~ /member list -w json$/) {
    @out = map { sort_field_array($_, 'members') } @out;
  } elsif ($title =~ /endpoint status$/ || $title =~ /endpoint status --cluster$/) {
    for (@out) {
      next unless /^([^,]+), ([0-9a-f]+), ([^,]*), ([^,]*), (true|false), (true|false), (\d+), (\d+), (\d+), (.*)$/;
      push @leaders, $5; push @terms, $7;
      $_ = "$1, " . member_label(canon_hex($2)) . ", <version>, <db size>, <is leader>, $6, <term>, <index>, <applied index>, $10";
    }
    $sort = 1;
    # (with one endpoint, whether it is the leader is chance)
    push @tail, '# members that are leader: ' . scalar(grep { $_ eq 'true' } @leaders) . ' of ' . scalar(@leaders) if @leaders != 1;
    push @tail, agree_line('raft term', @terms);
  } elsif ($title =~ /endpoint status -w json$/) {
    for (@out) {
      push @leaders, /"leader":(\d+)/g;
      push @terms, /"raftTerm":(\d+)/g;
      s/"version":"[^"]*"/"version":"<version>"/g;
      s/"(dbSize|dbSizeInUse)":\d+/"$1":"<size>"/g;
      s/"(raftIndex|raftAppliedIndex)":\d+/"$1":"<index>"/g;
      s/"raftTerm":\d+/"raftTerm":"<term>"/g;
      s/"leader":\d+/"leader":"<leader>"/g;
      $_ = sort_array_at($_, 0) if /^\[/;
    }
    my @known = grep { defined $member{canon_dec($_)} } @leaders;
    push @tail, agree_line('leader', map { member_label(canon_dec($_)) } @leaders);
    push @tail, '# leader is a member of the cluster: ' . (@leaders && @known == @leaders ? 'yes' : 'NO');
    push @tail, agree_line('raft term', @terms);
  } elsif ($title =~ /endpoint health/) {
    @out = map { /^\[/ ? sort_array_at($_, 0) : $_ } @out;
    $sort = 1;
  } elsif ($title =~ /endpoint hashkv/) {
    for (@out) {
      if (/^([^,]+), (\d+)$/) { push @hashes, $2; $_ = "$1, <hash>"; }
      push @hashes, /"hash":(\d+)/g;
      s/"hash":\d+/"hash":"<hash>"/g;
      $_ = sort_array_at($_, 0) if /^\[/;
    }
    $sort = 1;
    push @tail, agree_line('hash', @hashes);
  } elsif ($title =~ /lease list$/) {
    my $found = 0;
    for (@out) {
      if (/^found \d+ leases$/) { $found = 1; next; }
      $_ = lease_label(canon_hex($1)) if $found && /^([0-9a-f]{1,16})$/;
    }
    $sort = 1;
  } elsif ($title =~ /lease list -w json$/) {
    @out = map { sort_field_array($_, 'leases') } @out;
  }

  if ($sort) { # the order of these lines is unspecified: sort them, the exit status stays last
    my @body = grep { !/^\[exit / } @out;
    my @exit = grep { /^\[exit / } @out;
    my @head = $title =~ /lease list$/ ? grep({ /^found / } @body) : ();
    @body = grep { !/^found / } @body if @head;
    @out = (@head, sort(@body), @exit);
  }
  (my $t = norm_line($title, $title, 1)) =~ s/^\d+ //; # step numbers shift when a side has an extra note
  return ("=== $t", @out, @tail);
}

print "$_\n" for map { norm_block($_) } @blocks;
