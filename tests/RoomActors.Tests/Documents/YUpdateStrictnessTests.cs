using System.Text;
using RoomActors.Documents;

namespace RoomActors.Tests.Documents;

/// <summary>
/// <see cref="YUpdate.Validate"/> refuses what makes yjs's own <c>Y.applyUpdate</c> throw (an update the room accepted
/// and relayed would fail every client that applies it), and accepts what yjs writes, however deeply its values nest.
/// </summary>
public sealed class YUpdateStrictnessTests
{
    /// <summary>One client (1) from clock 0: the given structs, then an empty delete set.</summary>
    private static byte[] Update(int structs, params byte[][] parts)
    {
        var bytes = new List<byte> { 1, (byte)structs, 1, 0 };
        foreach (var part in parts)
        {
            bytes.AddRange(part);
        }

        bytes.Add(0);
        return [.. bytes];
    }

    private static byte[] Str(string s)
    {
        var utf8 = Encoding.UTF8.GetBytes(s);
        return [(byte)utf8.Length, .. utf8];
    }

    /// <summary>"a" in root text "t" at clock 0.</summary>
    private static readonly byte[] RootA = [0x04, 1, .. Str("t"), .. Str("a")];

    [Fact]
    public void Hand_built_updates_that_yjs_applies_are_accepted()
    {
        Assert.Equal(2, YUpdate.Validate(Update(2, RootA, [0x84, 1, 0, .. Str("b")])).Structs); // "b" after 1:0
        Assert.Equal(1, YUpdate.Validate(Update(1, [0x06, 1, .. Str("t"), .. Str("bold"), .. Str("true")])).Structs); // a format
        Assert.Equal(1, YUpdate.Validate(Update(1, [0x05, 1, .. Str("t"), .. Str("{\"image\": \"x\"}")])).Structs); // an embed
        Assert.Equal(1, YUpdate.Validate(Update(1, [0x02, 1, .. Str("a"), 2, .. Str("[1,{\"b\":null}]"), .. Str("undefined")])).Structs); // JSON
        Assert.Equal("ab", YUpdate.ReadTexts(Update(2, RootA, [0x84, 1, 0, .. Str("b")]))["t"]);
    }

    [Theory]
    [InlineData(0x84, "origin")] // "b" after 1:1, which is itself
    [InlineData(0x44, "right origin")] // "b" before 1:1
    public void An_item_that_names_a_later_clock_of_its_own_client_is_refused(byte info, string what)
    {
        var update = Update(2, RootA, [info, 1, 1, .. Str("b")]);
        var error = Assert.Throws<FormatException>(() => YUpdate.Validate(update));
        Assert.Contains(what, error.Message);
        Assert.Throws<FormatException>(() => YUpdate.Merge([update, YUpdate.Empty]));
        Assert.Throws<FormatException>(() => YUpdate.ReadTexts(update));
    }

    [Fact]
    public void A_child_of_its_own_later_clock_is_refused()
    {
        // "x" under the type at 1:5 (parent info 0, then the id), written at clock 1.
        var update = Update(2, [0x07, 1, .. Str("m"), 1], [0x04, 0, 1, 5, .. Str("x")]);
        Assert.Contains("parent", Assert.Throws<FormatException>(() => YUpdate.Validate(update)).Message);
    }

    [Theory]
    [InlineData(new byte[] { 0x04, 1, 1, 0x74, 2, 0xC3, 0x28 })] // string content: a lead byte without its continuation
    [InlineData(new byte[] { 0x04, 1, 1, 0xFF, 1, 0x61 })] // root name
    [InlineData(new byte[] { 0x24, 1, 1, 0x6D, 1, 0xFE, 1, 0x61 })] // map key
    [InlineData(new byte[] { 0x28, 1, 1, 0x6D, 1, 0x6B, 1, 119, 1, 0xFF })] // a string in an any value
    public void Invalid_utf8_is_refused_as_yjs_fatal_decoder_refuses_it(byte[] item)
    {
        var update = Update(1, item);
        Assert.Contains("UTF-8", Assert.Throws<FormatException>(() => YUpdate.Validate(update)).Message);
    }

    [Theory]
    [InlineData(6, "tru")] // format value
    [InlineData(5, "{\"a\":}")] // embed
    [InlineData(2, "{")] // JSON content
    [InlineData(6, "")]
    public void Json_that_json_parse_refuses_is_refused(int contentRef, string json)
    {
        byte[] item = contentRef switch
        {
            6 => [0x06, 1, .. Str("t"), .. Str("bold"), .. Str(json)],
            5 => [0x05, 1, .. Str("t"), .. Str(json)],
            _ => [0x02, 1, .. Str("a"), 1, .. Str(json)],
        };

        var error = Assert.Throws<FormatException>(() => YUpdate.Validate(Update(1, item)));
        Assert.Contains("JSON", error.Message);
    }

    [Fact]
    public void A_value_nested_a_hundred_levels_is_a_valid_document_and_a_pathological_one_is_refused_without_a_crash()
    {
        static byte[] MapValue(int depth)
        {
            List<byte> value = [0x28, 1, .. Str("m"), .. Str("k"), 1];
            for (var i = 0; i < depth; i++)
            {
                value.AddRange([118, 1, .. Str("a")]); // an object with one key, "a"
            }

            value.AddRange([119, .. Str("leaf")]);
            return Update(1, [.. value]);
        }

        // yjs writes and reads this (m.set('k', {a: {a: ... 'leaf'}})).
        Assert.Equal(1, YUpdate.Validate(MapValue(100)).Structs);
        Assert.Equal(MapValue(100), YUpdate.Merge([MapValue(100), YUpdate.Empty]));
        Assert.Throws<FormatException>(() => YUpdate.Validate(MapValue(20_000)));
    }
}
