using System.Text.Json;
using VNetCompose.Ovsdb.Protocol;
using VNetCompose.Ovsdb.Rpc;

namespace VNetCompose.Ovsdb.Tests;

public sealed class ValueEncodingTests
{
    [Theory]
    [InlineData("\"x\"", "\"x\"")]
    [InlineData("10", "10")]
    [InlineData("1.5", "1.5")]
    [InlineData("true", "true")]
    [InlineData("[\"uuid\",\"3c0cdc62-87dc-4671-bcc2-004029f401d2\"]", "[\"uuid\",\"3c0cdc62-87dc-4671-bcc2-004029f401d2\"]")]
    [InlineData("[\"named-uuid\",\"b0\"]", "[\"named-uuid\",\"b0\"]")]
    [InlineData("[\"set\",[]]", "[\"set\",[]]")]
    [InlineData("[\"set\",[10]]", "10")] // a one-element set is written as its atom (RFC 7047 5.1)
    [InlineData("[\"set\",[10,20]]", "[\"set\",[10,20]]")]
    [InlineData("[\"map\",[]]", "[\"map\",[]]")]
    [InlineData("[\"map\",[[\"a\",\"b\"]]]", "[\"map\",[[\"a\",\"b\"]]]")]
    public void Datum_ReadsAndWritesRfc7047Notation(string json, string written)
    {
        var datum = OvsdbDatum.Read(JsonDocument.Parse(json).RootElement);
        datum.ToString().Should().Be(written);
    }

    [Fact]
    public void EmptySetAndEmptyMap_BothReadAsNoValue()
    {
        OvsdbDatum.Read(JsonDocument.Parse("[\"set\",[]]").RootElement).AsStringMap().Should().BeEmpty();
        OvsdbDatum.Read(JsonDocument.Parse("[\"map\",[]]").RootElement).AsOptionalString().Should().BeNull();
    }

    [Fact]
    public void Operations_SerializeWithOpFirstAndWithoutNullMembers()
    {
        string json = JsonSerializer.Serialize<OvsdbOperation>(
            new SelectOperation("Bridge", [OvsdbCondition.NameIs("b")]), OvsdbJsonContext.Default.OvsdbOperation);
        json.Should().Be("""{"op":"select","table":"Bridge","where":[["name","==","b"]]}""");
    }

    [Fact]
    public void Framer_FindsMessagesAtEveryChunkBoundary()
    {
        const string stream = """ {"a":"}]\"{"} [1,[2]]{"b":{"c":"\\"}}""";
        byte[] bytes = System.Text.Encoding.UTF8.GetBytes(stream);
        for (int split = 0; split <= bytes.Length; split++)
        {
            var framer = new JsonStreamFramer();
            var messages = new List<string>();
            foreach (var chunk in new[] { bytes[..split], bytes[split..] })
            {
                chunk.CopyTo(framer.GetReceiveBuffer(chunk.Length));
                framer.Advance(chunk.Length);
                while (framer.TryTake(out byte[] message)) messages.Add(System.Text.Encoding.UTF8.GetString(message));
            }
            messages.Should().Equal(["""{"a":"}]\"{"}""", "[1,[2]]", """{"b":{"c":"\\"}}"""], $"split at {split}");
            framer.HasPartialMessage.Should().BeFalse();
        }
    }

    [Fact]
    public void Framer_RefusesAStreamThatIsNotJsonRpc()
    {
        var framer = new JsonStreamFramer();
        "HTTP/1.1"u8.CopyTo(framer.GetReceiveBuffer().Span);
        framer.Advance(8);
        FluentActions.Invoking(() => framer.TryTake(out _)).Should().Throw<FormatException>();
    }
}
